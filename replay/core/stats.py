"""What a session counts for its report: exchanges replayed, recorded, missed and live, the
recordings used, and objects kept as plain JSON. Plain data, so that pytest-xdist workers
can send it to the controller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Stats:
    """What happened to requests, for the session report."""

    replayed: int = 0
    recorded: int = 0
    missed: int = 0
    live: int = 0
    unchanged: int = 0  # recorded with the answer the file held: the file was kept as it was
    written: list[str] = field(default_factory=list)
    untyped: list[str] = field(default_factory=list)
    # Per test that used the plugin ("": code outside tests), the files it read or wrote.
    tests: dict[str, list[str]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)  # "<test id>: <fault> on <request>"
    random_chunked: int = 0  # tests whose bodies were cut with the session's random seed
    requested_models: set[str] = field(default_factory=set)  # of requests sent to the server

    def note_requested_model(self, body: Any) -> None:
        """Keep the model a request sent to the server asked for."""
        model = body.get("model") if isinstance(body, dict) else None
        if isinstance(model, str):
            self.requested_models.add(model)

    def merge(self, other: dict[str, Any]) -> None:
        """Add the stats a pytest-xdist worker sent (``as_dict``)."""
        for name in ("replayed", "recorded", "missed", "live", "unchanged", "random_chunked"):
            setattr(self, name, getattr(self, name) + int(other.get(name, 0)))
        self.written += list(other.get("written", []))
        self.untyped += list(other.get("untyped", []))
        self.tests.update(other.get("tests", {}))
        self.faults += list(other.get("faults", []))
        self.requested_models |= set(other.get("requested_models", []))

    def as_dict(self) -> dict[str, Any]:
        """Plain data, to cross from an xdist worker to the controller."""
        return {
            "replayed": self.replayed,
            "recorded": self.recorded,
            "missed": self.missed,
            "live": self.live,
            "unchanged": self.unchanged,
            "written": self.written,
            "untyped": self.untyped,
            "tests": self.tests,
            "faults": self.faults,
            "random_chunked": self.random_chunked,
            "requested_models": sorted(self.requested_models),
        }
