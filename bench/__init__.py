"""Benchmarks of the course kit: ``python -m bench`` prints the figures (docs/performance.md).

They are measured here and never asserted in the test suite: wall-clock numbers depend on
the machine, and a test must not fail because the machine was busy.
"""
