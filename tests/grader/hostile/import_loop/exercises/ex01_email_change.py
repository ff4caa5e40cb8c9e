"""Loops forever at import time."""

while True:
    pass
