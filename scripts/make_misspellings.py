#!/usr/bin/env python3
"""Make realistic misspelled variants of PEP Voice's hand-written NLU examples.

Children misspell. Rather than invent typos, this swaps in *real* misspellings made by
schoolchildren (Roger Mitton's Birkbeck and Holbrook corpora, in ../shared/data/spelling/
beside the repository; format: a line `$word` gives the correct spelling, the lines after it
are misspellings, `_` stands for a space, Holbrook lines end with a count).

With a fixed seed it picks some examples of each intent from the hand-written files in
nlu_data/ (everything except nlu_data/generated/), replaces one or two words in each with
a corpus misspelling of that word, and writes nlu_data/generated/misspellings.yml.
The output is committed: the product never reads the corpora at run time.

Variants never repeat a training example, and never equal a sentence in the held-out sets
(bench/data/nlu_heldout*.yml), which are read only to exclude collisions.

    .venv/engine/bin/python scripts/make_misspellings.py          # rewrite the generated file
    .venv/engine/bin/python scripts/make_misspellings.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import string
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: pep_nlp from this checkout
from pep_nlp.nlu_examples import load_examples  # noqa: E402
from pep_nlp.vocabulary import common_words  # noqa: E402

NLU_DIR = ROOT / "nlu_data"
OUT = NLU_DIR / "generated" / "misspellings.yml"
HELDOUTS = (
    ROOT / "bench" / "data" / "nlu_heldout.yml",
    ROOT / "bench" / "data" / "nlu_heldout_fresh.yml",
)
# The corpora ship in the project's shared folder beside the repository, not in it.
CORPUS_DIR = ROOT.parent / "shared" / "data" / "spelling"
CORPORA = ("holbrook-missp.dat", "birkbeck-missp.dat")
SEED = 20240607

# How many variants to make per intent (start is left out: codes are not words).
# Disclosures are misspelled too (issue 8): many safeguarding examples get a misspelled
# twin; the controls children most often misspell get more than the rest.
PER_INTENT = {
    "inform": 60,
    "safeguarding_concern": 300,
    "stop": 14,
    "dont_know": 16,
    "change_answer": 16,
    "skip": 20,
    "help": 12,
}
DEFAULT_PER_INTENT = 8
SKIP_INTENTS = {"start"}
# Words too short or too grammatical to be worth swapping (they make noise, not realism).
STOP_WORDS = {"a", "i", "is", "it", "in", "on", "at", "to", "of", "me", "my", "an", "be", "do"}
# Whole words only: not part of a contraction ("that's") or of a longer token.
WORD_RE = re.compile(r"(?<![\w'])[A-Za-z]+(?![\w'])")
MIN_SIMILARITY = 0.7


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = text.translate(str.maketrans("", "", string.punctuation))
    return " ".join(text.split())


def common_english_words() -> set[str]:
    """Common English words (pep_nlp.vocabulary's list, from spaCy's lexeme probabilities):
    used to drop real-word errors ("live" -> "lie", "good" -> "god")."""
    return set(common_words())


def load_corpus(extra_words: set[str], corpus_dir: Path = CORPUS_DIR) -> dict[str, list[str]]:
    """Map each correctly spelled word (lower case) to its plausible real misspellings.

    A misspelling is kept if it starts with the same letter, is close to the word, and is not
    itself a word (a corpus headword or a word in `extra_words`, the training vocabulary).
    """
    table: dict[str, set[str]] = {}
    for name in CORPORA:
        word = None
        for raw in (corpus_dir / name).read_text(encoding="latin-1").splitlines():
            raw = raw.strip()
            if not raw:
                continue
            if raw.startswith("$"):
                word = raw[1:].lower()
                continue
            if word is None or not word.isalpha():
                continue
            miss = raw.split()[0].replace("_", " ").lower()
            if miss == word or not re.fullmatch(r"[a-z' ]+", miss):
                continue
            # Keep errors a reader would still recognise: the corpora also hold attempts by
            # very young or very poor spellers that are far from the target word.
            if (
                miss[0] != word[0]
                or difflib.SequenceMatcher(None, word, miss).ratio() < MIN_SIMILARITY
            ):
                continue
            table.setdefault(word, set()).add(miss)
    # Drop real-word errors ("who" -> "how", "even" -> "evening"): they change the meaning.
    known = set(table) | extra_words
    return {w: ms for w, m in table.items() if (ms := sorted(x for x in m if x not in known))}


def hand_written_files() -> list[Path]:
    return sorted(
        p for p in NLU_DIR.rglob("*.yml") if "generated" not in p.relative_to(NLU_DIR).parts
    )


def variant(text: str, table: dict[str, list[str]], rng: random.Random) -> str | None:
    spans = [
        m
        for m in WORD_RE.finditer(text)
        if m.group().lower() in table and m.group().lower() not in STOP_WORDS
    ]
    if not spans:
        return None
    n = 1 if len(spans) < 4 else rng.choice((1, 2))
    chosen = sorted(rng.sample(spans, min(n, len(spans))), key=lambda m: m.start(), reverse=True)
    for m in chosen:
        miss = rng.choice(table[m.group().lower()])
        if m.group()[0].isupper():
            miss = miss[0].upper() + miss[1:]
        text = text[: m.start()] + miss + text[m.end() :]
    return text


def generate(seed: int = SEED) -> dict[str, list[str]]:
    examples = load_examples(*hand_written_files())
    vocabulary = {w.lower() for _, t in examples for w in re.findall(r"[A-Za-z]+", t)}
    table = load_corpus(vocabulary | common_english_words())
    taken = {normalise(t) for _, t in examples}
    taken |= {normalise(t) for _, t in load_examples(*(p for p in HELDOUTS if p.exists()))}
    rng = random.Random(seed)
    by_intent: dict[str, list[str]] = {}
    for intent, text in examples:
        by_intent.setdefault(intent, []).append(text)
    out: dict[str, list[str]] = {}
    for intent in sorted(by_intent):
        if intent in SKIP_INTENTS:
            continue
        want = PER_INTENT.get(intent, DEFAULT_PER_INTENT)
        pool = list(by_intent[intent])
        rng.shuffle(pool)
        made: list[str] = []
        for text in pool:
            if len(made) >= want:
                break
            new = variant(text, table, rng)
            if new is None or normalise(new) in taken:
                continue
            taken.add(normalise(new))
            made.append(new)
        out[intent] = made
    return out


def render(variants: dict[str, list[str]], seed: int = SEED) -> str:
    lines = [
        f"# GENERATED by scripts/make_misspellings.py (seed {seed}) — do not edit by hand.",
        "# Hand-written examples from nlu_data/ with some words swapped for real misspellings by",
        "# schoolchildren (Birkbeck and Holbrook spelling error corpora, R. Mitton).",
        "# Regenerate after changing the hand-written data (engine python, for its word list):",
        "#   .venv/engine/bin/python scripts/make_misspellings.py",
        'version: "3.1"',
        "nlu:",
    ]
    for intent, texts in variants.items():
        if not texts:
            continue
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {t}" for t in texts]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if --out differs from a fresh run")
    args = ap.parse_args(argv)
    text = render(generate(args.seed), args.seed)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run scripts/make_misspellings.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    counts = yaml.safe_load(text)["nlu"]
    for block in counts:
        print(f"{block['intent']:22} {len(block['examples'].splitlines())}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
