"""The engine's side of PEP Voice that is not NLU: who may talk to it, and what it logs.

Imported by the engine (Rasa, `.venv/engine`) only. Nothing here imports from `bot/` or
`actions/`, which live in the app environment. `pep_engine.logs` imports nothing from Rasa,
so its tests run in the app environment too.
"""
