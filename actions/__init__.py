"""Rasa custom actions. Each one is thin: it reads the tracker and calls a `bot` service."""
