"""Language code shared by the Rasa engine (Python 3.10) and the app (Python 3.11+).

Nothing here imports from `bot` or `actions`: the engine loads this package too.
"""
