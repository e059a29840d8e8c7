"""The replay core shared by every transport: per request, replay, record or pass through.

One ``Player`` serves one test (or, with no test, the shared scope). It counts identical
requests, so that the k-th identical request of a test replays the k-th recording of it; it
looks in the test's own recordings, then in the shared ones, never in another test's; it
turns a miss into a ``ReplayMiss`` that names the request, its hash, the file looked for and
the command that records it; and it is the one place a finished recording is scanned for
secrets, written and counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from replay.core import typed_events
from replay.core.hashing import canonical
from replay.core.json_diff import json_diff
from replay.core.modes import Mode
from replay.core.product import RECORD_HINT
from replay.core.recording import Recording, dumps
from replay.core.redaction import Redaction
from replay.core.replayable import body_problems
from replay.core.request import RequestInfo, request_info
from replay.core.secret_scan import find_in_stream, find_secrets
from replay.core.stats import Stats
from replay.errors import RecordingFileError, ReplayMiss, SecretInRecording
from replay.store.base import Store
from replay.store.bounded_search import Bounded

if TYPE_CHECKING:
    from replay.shaping.plan import Shaper

__all__ = ["Live", "Player", "Record", "Route", "Rules", "Upstream"]


@dataclass(frozen=True, slots=True)
class Record:
    """Route: send the request to the server and record the answer as the ``index``-th."""

    index: int


@dataclass(frozen=True, slots=True)
class Live:
    """Route: send the request to the server and write nothing."""


Route = Recording | Record | Live


def _same_url(url: str) -> str:
    return url


@dataclass(frozen=True, slots=True)
class Rules:
    """How requests are matched and kept: redaction, the body fields left out of the hash,
    whether a request made more often than recorded replays its first recording, and the
    command a miss message gives to record it."""

    redaction: Redaction = field(default_factory=Redaction)
    ignore_fields: tuple[str, ...] = ()
    allow_repeats: bool = False
    record_hint: str = RECORD_HINT


@dataclass(frozen=True, slots=True)
class Upstream:
    """The server recorded requests go to: ``forward_url`` gives the URL a request is sent to
    (the engine that serves it, started on need); ``served_model`` is the model it runs
    whatever a request names (the auto-started server's GGUF), recorded instead of the name
    it echoes back (None: the answer's)."""

    forward_url: Callable[[str], str] = _same_url
    served_model: str | None = None


class Player:
    """Decides, request by request, where the answer comes from."""

    def __init__(
        self,
        store: Store,
        mode: Mode,
        *,
        test: str | None = None,
        rules: Rules | None = None,
        upstream: Upstream | None = None,
        stats: Stats | None = None,
        shaper: Shaper | None = None,
    ) -> None:
        self.store = store
        self.mode: Mode = mode
        self.test = test  # the pytest node id whose recordings these are; None: shared
        self.rules = rules or Rules()
        self.upstream = upstream or Upstream()
        self.stats = stats if stats is not None else Stats()
        self.shaper = shaper  # pace, chunking and faults of replayed answers (replay.shaping.plan)
        self._seen: dict[str, int] = {}
        self.replayed: list[Recording] = []  # this test's, to explain a failure
        self.used: list[str] = []  # the files this test read or wrote, in order
        self._lock = threading.Lock()

    def request_info(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes
    ) -> RequestInfo:
        """Hash and describe a request under this player's redaction rules."""
        return request_info(
            method, url, headers, content, self.rules.redaction, self.rules.ignore_fields
        )

    def route(self, request: RequestInfo) -> Route:
        """Where the answer to ``request`` comes from; raises ReplayMiss in replay mode."""
        with self._lock:
            index = self._seen.get(request.key, 0)
            self._seen[request.key] = index + 1
        if self.mode == "live":
            self.stats.live += 1
            self.stats.note_requested_model(request.body)
            return Live()
        if self.mode == "record":
            self.stats.note_requested_model(request.body)
            return Record(index)
        recording = self._find(request, index)
        if recording is None and self.rules.allow_repeats and index > 0:
            recording = self._find(request, 0)
        if recording is not None:
            recording.check_answers(request)
            self.stats.replayed += 1
            if recording.source:
                self.used.append(recording.source)
            self.replayed.append(recording)
            return recording
        if self.mode == "missing":
            self.stats.note_requested_model(request.body)
            return Record(index)
        self.stats.missed += 1
        raise ReplayMiss(self._miss_message(request, index))

    def _find(self, request: RequestInfo, index: int) -> Recording | None:
        """The test's own recording, else the shared one; never another test's."""
        get, key, endpoint = self.store.get, request.key, request.endpoint
        if self.test is None:
            return get(None, key, index, endpoint)
        return get(self.test, key, index, endpoint) or get(None, key, index, endpoint)

    def invalid_recording(self) -> str | None:
        """The first replayed recording holding an object that is not of its openai type,
        as an error message; checked only once a test has failed (replay does not validate)."""
        for recording in self.replayed:
            for index, problem in body_problems(
                recording.events, recording.is_streaming, recording.content_type, recording.status
            )[:1]:
                where = f"response.body[{index}]" if recording.is_streaming else "response.body"
                return str(RecordingFileError(recording.source, f"{where} {problem}"))
            for index, problem in typed_events.invalid_elements(recording.events)[:1]:
                return str(
                    RecordingFileError(recording.source, f"response.body[{index}]: {problem}")
                )
        return None

    def save(self, recording: Recording, index: int, problems: list[str]) -> str:
        """Scan a finished recording for secrets, keep it as the ``index``-th of its request in
        this test's scope, and count it with the objects that were not of their type; the
        path. SecretInRecording, and nothing written, when it holds what looks like a key."""
        recording.test = self.test
        text = dumps(recording)
        patterns = self.rules.redaction.compiled
        secrets = find_secrets(text, patterns)
        if recording.is_streaming:  # a key the server streamed across several events
            secrets += find_in_stream(recording.events, patterns)
        if secrets:
            where = self.store.describe(self.test, recording.key, index, recording.endpoint)
            raise SecretInRecording(
                f"pytest-llm-playback: did not write {where}: it would hold what looks like "
                f"a secret ({'; '.join(secrets[:5])}). Keep keys out of request bodies, or "
                "name the field in the ini setting llm_replay_redact_body (or the header in "
                "llm_replay_redact_headers) so that it is written as <redacted>."
            )
        path, written = self.store.put(recording, index, text)
        self.stats.recorded += 1
        if written:
            self.stats.written.append(path)
        else:
            self.stats.unchanged += 1
        self.used.append(path)
        if problems:
            more = f" (and {len(problems) - 1} more objects)" if len(problems) > 1 else ""
            self.stats.untyped.append(f"{path}: {problems[0]}{more}")
        return path

    def _miss_message(self, request: RequestInfo, index: int) -> str:
        looked_for = self.store.describe(self.test, request.key, index, request.endpoint)
        repeat = ""
        if index > 0:
            repeat = (
                f"\n  This is identical request number {index + 1} in this test and only {index} "
                "recorded; mark the test @pytest.mark.llm_replay(allow_repeats=True) to replay "
                "the first recording again."
            )
        return (
            f"pytest-llm-playback: no recording for {request.method} {request.endpoint}\n"
            f"  request hash: {request.key}\n"
            f"  looked for:   {looked_for}{repeat}{self._nearest(request)}\n"
            f"  To record it against the server, run: {self.rules.record_hint}"
        )

    def _nearest(self, request: RequestInfo, shown: int = 12) -> str:
        """The recording of the same endpoint whose request differs least, and how."""
        best: tuple[int, str, list[str]] | None = None
        candidates = Bounded(self.store.neighbours(self.test, request.endpoint))  # never slow
        for recording in candidates:
            if recording.method != request.method:
                continue
            lines = json_diff(canonical(recording.body), canonical(request.body), "body")
            if best is None or len(lines) < best[0]:
                best = (len(lines), recording.source or "?", lines)
        searched = f" (searched {candidates.cut} only)" if candidates.cut else ""
        if best is None:
            return f"\n  No recording of {request.method} {request.endpoint} exists yet{searched}."
        count, source, lines = best
        more = [f"    ... and {count - shown} more"] if count > shown else []
        body = "\n".join([f"    {line}" for line in lines[:shown]] + more)
        if not lines:
            return (
                f"\n  nearest recording{searched}: {source}\n  (the same body: the query string "
                "differs, or the request was made more often than it was recorded)"
            )
        return f"\n  nearest recording{searched}: {source}\n  (recorded -> this request):\n{body}"
