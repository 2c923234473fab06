"""Benchmarks for partdeck: ``python -m tests.bench [--quick] [--only NAME] [--json PATH]``."""
