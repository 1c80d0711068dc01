"""Names both sides of PEP Voice share, with no Rasa import: the engine's custom components,
the actions, the app and the benchmarks read them here instead of re-typing the strings.

`tests/test_contract.py` checks them against domain.yml.
"""

from __future__ import annotations

#: Every intent in domain.yml: what the NLU may predict.
INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "affirm",
        "deny",
        "skip",
        "dont_know",
        "help",
        "stop",
        "bot_challenge",
        "change_answer",
        "safeguarding_concern",
        "inform",
        "start",
    }
)
