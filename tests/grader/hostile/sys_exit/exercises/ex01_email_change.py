"""Exits the interpreter (politely) at import time."""

import sys

sys.exit(0)
