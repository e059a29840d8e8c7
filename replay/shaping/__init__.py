"""How replayed answers are delivered: the plan (``plan``: pace, faults used up per test),
how bodies are cut (``chunking``), the faults (``faults``), and the thin edge that sends a
plan through an httpx or httpx2 response (``delivery``).

May import: ``replay.errors``, ``replay.core``.
"""
