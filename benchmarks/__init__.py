"""Benchmarks of pytest-llm-playback against its floors and vcrpy: ``python benchmarks/run.py``."""
