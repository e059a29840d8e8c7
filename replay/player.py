"""The replay core shared by every transport: per request, replay, record or pass through.

One ``Player`` serves one test. It counts identical requests, so that the k-th identical
request of a test replays the k-th recording of it, and it turns a miss into a ``ReplayMiss``
that names the request, its hash, the file looked for and the command that records it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from replay import typed
from replay.diff import json_diff
from replay.errors import RecordingFileError, ReplayMiss
from replay.keys import canonical
from replay.modes import MODES, Mode
from replay.recorder import RequestInfo, request_info
from replay.recording import Recording
from replay.redaction import Redaction
from replay.stats import Stats
from replay.store import Store

__all__ = ["MODES", "Live", "Mode", "Player", "Record", "Route", "Stats"]


@dataclass(frozen=True, slots=True)
class Record:
    """Route: send the request to the server and record the answer as the ``index``-th."""

    index: int


@dataclass(frozen=True, slots=True)
class Live:
    """Route: send the request to the server and write nothing."""


Route = Recording | Record | Live


class Player:
    """Decides, request by request, where the answer comes from."""

    def __init__(
        self,
        store: Store,
        mode: Mode,
        *,
        allow_repeats: bool = False,
        record_hint: str = "pytest --record-mode=missing",
        stats: Stats | None = None,
        redaction: Redaction | None = None,
        ignore_fields: tuple[str, ...] = (),
        forward_url: Callable[[str], str] = lambda url: url,
    ) -> None:
        self.store = store
        self.redaction = redaction or Redaction()
        self.ignore_fields = ignore_fields
        # The URL a request goes to the server at: the engine that serves it, started on need
        self.forward_url = forward_url
        self.mode: Mode = mode
        self.allow_repeats = allow_repeats
        self.record_hint = record_hint
        self.stats = stats if stats is not None else Stats()
        self._seen: dict[str, int] = {}
        self.replayed: list[Recording] = []  # this test's, to explain a failure
        self._lock = threading.Lock()

    def request_info(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes
    ) -> RequestInfo:
        """Hash and describe a request under this player's redaction rules."""
        return request_info(method, url, headers, content, self.redaction, self.ignore_fields)

    def route(self, request: RequestInfo) -> Route:
        """Where the answer to ``request`` comes from; raises ReplayMiss in replay mode."""
        with self._lock:
            index = self._seen.get(request.key, 0)
            self._seen[request.key] = index + 1
        if self.mode == "live":
            self.stats.live += 1
            return Live()
        if self.mode == "record":
            return Record(index)
        recording = self.store.get(request.key, index, request.endpoint)
        if recording is None and self.allow_repeats and index > 0:
            recording = self.store.get(request.key, 0, request.endpoint)
        if recording is not None:
            self.stats.replayed += 1
            if recording.source:
                self.stats.used.add(recording.source)
            self.replayed.append(recording)
            return recording
        if self.mode == "missing":
            return Record(index)
        self.stats.missed += 1
        raise ReplayMiss(self._miss_message(request, index))

    def invalid_recording(self) -> str | None:
        """The first replayed recording holding an object that is not of its openai type,
        as an error message; checked only once a test has failed (replay does not validate)."""
        for recording in self.replayed:
            for index, problem in typed.invalid_elements(recording.events)[:1]:
                return str(
                    RecordingFileError(recording.source, f"response.body[{index}]: {problem}")
                )
        return None

    def recorded(self, path: str, problems: list[str]) -> None:
        """Count a recording just written, with the objects that were not of their type."""
        self.stats.recorded += 1
        self.stats.written.append(path)
        self.stats.used.add(path)
        if problems:
            more = f" (and {len(problems) - 1} more objects)" if len(problems) > 1 else ""
            self.stats.untyped.append(f"{path}: {problems[0]}{more}")

    def _miss_message(self, request: RequestInfo, index: int) -> str:
        looked_for = self.store.describe(request.key, index, request.endpoint)
        repeat = ""
        if index > 0:
            repeat = (
                f"\n  This is identical request number {index + 1} in this test and only {index} "
                "recorded; mark the test @pytest.mark.llm_replay(allow_repeats=True) to replay "
                "the first recording again."
            )
        return (
            f"pytest-llm-replay: no recording for {request.method} {request.endpoint}\n"
            f"  request hash: {request.key}\n"
            f"  looked for:   {looked_for}{repeat}{self._nearest(request)}\n"
            f"  To record it against the server, run: {self.record_hint}"
        )

    def _nearest(self, request: RequestInfo, shown: int = 12) -> str:
        """The recording of the same endpoint whose request differs least, and how."""
        best: tuple[int, str, list[str]] | None = None
        for recording in self.store.neighbours(request.endpoint):
            if recording.method != request.method:
                continue
            lines = json_diff(canonical(recording.body), canonical(request.body), "body")
            if best is None or len(lines) < best[0]:
                best = (len(lines), recording.source or "?", lines)
        if best is None:
            return f"\n  No recording of {request.method} {request.endpoint} exists yet."
        count, source, lines = best
        more = [f"    ... and {count - shown} more"] if count > shown else []
        body = "\n".join([f"    {line}" for line in lines[:shown]] + more)
        if not lines:
            return (
                f"\n  nearest recording: {source}\n  (the same body: the query string differs, "
                "or the request was made more often than it was recorded)"
            )
        return f"\n  nearest recording: {source}\n  (recorded -> this request):\n{body}"
