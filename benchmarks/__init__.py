"""Benchmarks of pytest-llm-replay against its floors and vcrpy: ``python benchmarks/run.py``."""
