"""Benchmarks: `python -m bench` prints a table. Never part of the test suite."""
