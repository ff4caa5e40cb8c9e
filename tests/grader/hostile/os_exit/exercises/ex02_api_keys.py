"""Ends the process at once at import time: no cleanup, no report."""

import os

os._exit(0)
