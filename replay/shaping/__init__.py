"""How replayed answers are delivered: the plan (``plan``: pace, faults used up per test),
how bodies are cut (``chunking``), the faults (``faults``), and the thin edge that sends a
plan through an httpx or httpx2 response (``delivery``).

May import: ``replay.errors``, ``replay.core``.
"""

from replay.core.lazy_names import lazy_names

# The names 0.1's ``replay.shaping`` module held, from the modules that hold them now.
__getattr__ = lazy_names(
    __name__,
    {
        "Delivery": "replay.shaping.plan",
        "Head": "replay.shaping.plan",
        "Shaper": "replay.shaping.plan",
        "Shaping": "replay.shaping.plan",
        "seed_of_test": "replay.shaping.plan",
        "shaper_of_test": "replay.shaping.plan",
    },
)
