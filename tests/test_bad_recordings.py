"""Broken recording files, replayed by a real pytest run: each fails its one test with a message
that names the file and the problem, and no traceback through the library, httpx or openai.

Every case starts from the good recording of the chat seed (001), put where the plugin looks
for it, and overwrites that file with a broken variant of its text.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from replay.core import typed_events
from replay.core.hashing import request_key
from replay.player import Player
from replay.plugin.handle import LLMReplay
from replay.plugin.settings import REPLAY_BASE_URL
from replay.store.directory import DirectoryStore
from replay.store.memory import MemoryStore
from tests.conftest import SEED_TEST
from tests.seedfiles import curl_seed

# A module that records being imported; a recording naming it must not make anyone import it.
EVIL_MODULE = """
from pathlib import Path

Path(__file__).with_name("evil_mod_was_imported").write_text("imported")


class Thing:
    def __init__(self, *args, **kwargs):
        Path(__file__).with_name("evil_mod_thing_was_called").write_text("called")

    @classmethod
    def model_validate(cls, data):
        return cls(data)

    @classmethod
    def construct(cls, **data):
        return cls(data)
"""

# A traceback frame in pytest's output: of the library, httpx, openai or pydantic by its path,
# or any frame at all by pytest's "file.py:N: in function" line.
FRAME = re.compile(
    r"(replay/(transport|player|store|recording|typed|plugin|fixture)\.py"
    r"|site-packages/(httpx2?|openai|pydantic)/"
    r"|[\w./-]+\.py:\d+: in )"
)

Mutation = Callable[[str, dict[str, Any]], str | bytes]


def _good_recording() -> Any:
    return curl_seed("001_1cfb8fc5d5cf4d6d.txt").record()


@pytest.fixture(scope="module", autouse=True)
def _replay_once_in_this_process() -> None:
    """Replay the good recording once here, so that what a replay imports (the openai client,
    all of its resources under 2.x) is in sys.modules before pytester snapshots it: each
    in-process run restores the snapshot, and importing all of it afresh costs seconds."""
    handle = LLMReplay(Player(MemoryStore([_good_recording()]), "replay"), REPLAY_BASE_URL, "m")
    try:
        stream = handle.openai().chat.completions.create(
            model="llama3.2:1b",
            messages=[{"role": "user", "content": "tell me a joke"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    finally:
        handle.close()
    assert text.startswith("A man walked into a library")


def edited(change: Callable[[dict[str, Any]], object]) -> Mutation:
    """A mutation of the parsed file: ``change`` edits a deep copy in place."""

    def mutate(text: str, doc: dict[str, Any]) -> str:
        document = copy.deepcopy(doc)
        change(document)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    return mutate


def with_element(element: Any, index: int = 0) -> Mutation:
    """The ``index``-th stream event replaced by ``element``."""

    def change(doc: dict[str, Any]) -> None:
        doc["response"]["body"][index] = element

    return edited(change)


def typed_as(name: str) -> Mutation:
    """The first stream event's ``__type__`` replaced by ``name``, its data kept."""

    def change(doc: dict[str, Any]) -> None:
        doc["response"]["body"][0]["__type__"] = name

    return edited(change)


def set_at(section: str, name: str, value: Any) -> Mutation:
    def change(doc: dict[str, Any]) -> None:
        doc[section][name] = value

    return edited(change)


def drop(*path: str) -> Mutation:
    def change(doc: dict[str, Any]) -> None:
        target = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return edited(change)


def edit_message_by_hand(doc: dict[str, Any]) -> None:
    doc["request"]["body"]["messages"][0]["content"] = "tell me two jokes"


def edit_message_and_rehash(doc: dict[str, Any]) -> None:
    """A consistent file of another request, under the name of this one."""
    request = doc["request"]
    edit_message_by_hand(doc)
    doc["key"] = request_key(request["method"], request["endpoint"], "", request["body"])


def undecodable(text: str, doc: dict[str, Any]) -> bytes:
    return text.encode("utf-8").replace(b"tell me a joke", b"tell me a jok\xe9", 1)


def without_done(doc: dict[str, Any]) -> None:
    assert doc["response"]["body"][-1] == "[DONE]"
    del doc["response"]["body"][-1]
    del doc["response"]["event_ms"][-1]


def with_invalid_data(doc: dict[str, Any]) -> None:
    doc["response"]["body"][0]["__data__"]["choices"] = "not a list"


ALLOWED = typed_events.CHAT_COMPLETION_CHUNK

CASES = [
    pytest.param(lambda text, doc: text[: len(text) // 2], "not valid JSON", id="truncated"),
    pytest.param(lambda text, doc: "", "not valid JSON", id="empty-file"),
    pytest.param(lambda text, doc: "{broken\n", "not valid JSON", id="not-json"),
    pytest.param(undecodable, "not valid JSON ('utf-8' codec can't decode", id="not-utf-8"),
    pytest.param(
        lambda text, doc: json.dumps([doc]),
        "the top level is a JSON array, not an object",
        id="top-level-list",
    ),
    pytest.param(
        lambda text, doc: '"a recording"\n',
        "the top level is a JSON string, not an object",
        id="top-level-string",
    ),
    pytest.param(drop("request"), "request is missing", id="missing-request"),
    pytest.param(drop("response"), "response is missing", id="missing-response"),
    pytest.param(
        edited(lambda d: d.update(request=[d["request"]])),
        "request is a JSON array, not an object",
        id="request-a-list",
    ),
    pytest.param(
        edited(lambda d: d.update(request="POST /v1/chat/completions")),
        "request is a JSON string, not an object",
        id="request-a-string",
    ),
    pytest.param(
        edited(lambda d: d.update(response=None)), "response is missing", id="response-null"
    ),
    pytest.param(
        edited(lambda d: d.update(version=99)),
        "format version 99; this pytest-llm-playback reads versions 1 and 2",
        id="version-99",
    ),
    pytest.param(
        edited(lambda d: d.update(version="1")),
        "format version '1'; this pytest-llm-playback reads versions 1 and 2",
        id="version-string-1",
    ),
    pytest.param(
        typed_as("os.system"),
        "response.body[0]: __type__ 'os.system' is not an allowed SDK type",
        id="type-os-system",
    ),
    pytest.param(
        typed_as("subprocess.Popen"),
        "response.body[0]: __type__ 'subprocess.Popen' is not an allowed SDK type",
        id="type-subprocess-popen",
    ),
    pytest.param(
        typed_as("builtins.eval"),
        "response.body[0]: __type__ 'builtins.eval' is not an allowed SDK type",
        id="type-builtins-eval",
    ),
    pytest.param(
        typed_as("nonexistent_module_xyz.Thing"),
        "__type__ 'nonexistent_module_xyz.Thing' is not an allowed SDK type",
        id="type-nonexistent-module",
    ),
    pytest.param(
        typed_as("evil_mod.Thing"),
        "__type__ 'evil_mod.Thing' is not an allowed SDK type",
        id="type-local-module",
    ),
    pytest.param(
        typed_as(ALLOWED.replace("openai.", "openai .", 1)),
        "is not an allowed SDK type",
        id="type-near-miss",
    ),
    pytest.param(
        edited(lambda d: d["response"]["body"][3].update(__type__=["os", "system"])),
        "response.body[3]: __type__ ['os', 'system'] is not an allowed SDK type",
        id="type-not-a-string",
    ),
    pytest.param(
        edited(lambda d: d["response"]["body"][0].update(__init__="os.system")),
        "response.body[0]: a typed element has keys ['__data__', '__init__', '__type__'], "
        "expected __type__ and __data__",
        id="typed-extra-key",
    ),
    pytest.param(
        with_element({"__type__": ALLOWED}, 2),
        "response.body[2]: a typed element has keys ['__type__']",
        id="typed-without-data",
    ),
    pytest.param(
        with_element({"__type__": ALLOWED, "__data__": "A man walked"}, 1),
        f"response.body[1]: __data__ of {ALLOWED} is not a JSON object",
        id="data-a-string",
    ),
    pytest.param(
        with_element({"__type__": ALLOWED, "__data__": [{"id": "x"}]}),
        f"response.body[0]: __data__ of {ALLOWED} is not a JSON object",
        id="data-a-list",
    ),
    pytest.param(
        edited(lambda d: d["response"].update(body={"events": d["response"]["body"]})),
        "response.body of a streamed response is not a list",
        id="stream-body-an-object",
    ),
    pytest.param(
        edited(lambda d: d["response"].update(body="data: [DONE]\n\n")),
        "response.body of a streamed response is not a list",
        id="stream-body-a-string",
    ),
    pytest.param(drop("response", "body"), "response.body is missing", id="missing-body"),
    pytest.param(
        set_at("response", "is_streaming", "true"),
        "field 'is_streaming' is 'true', expected bool",
        id="is-streaming-a-string",
    ),
    pytest.param(
        set_at("response", "is_streaming", 1),
        "field 'is_streaming' is 1, expected bool",
        id="is-streaming-a-number",
    ),
    pytest.param(
        set_at("response", "status", "200"),
        "field 'status' is '200', expected int",
        id="status-a-string",
    ),
    pytest.param(
        set_at("response", "status", 200.5),
        "field 'status' is 200.5, expected int",
        id="status-a-float",
    ),
    pytest.param(
        set_at("response", "status", True),
        "field 'status' is True, expected int",
        id="status-a-boolean",
    ),
    pytest.param(
        edited(lambda d: d["response"]["event_ms"].__setitem__(5, "5.2ms")),
        "response.event_ms is not a list of numbers",
        id="event-ms-a-string-inside",
    ),
    pytest.param(
        set_at("response", "event_ms", "fast"),
        "response.event_ms is not a list of numbers",
        id="event-ms-a-string",
    ),
    pytest.param(
        set_at("response", "event_ms", {"0": 1.5}),
        "response.event_ms is not a list of numbers",
        id="event-ms-an-object",
    ),
    pytest.param(
        set_at("request", "headers", [["content-type", "application/json"]]),
        "request.headers is not an object of strings",
        id="request-headers-a-list",
    ),
    pytest.param(
        set_at("request", "headers", {"content-type": ["application/json"]}),
        "request.headers is not an object of strings",
        id="request-header-a-list",
    ),
    pytest.param(
        set_at("request", "headers", {"x-retry": 3}),
        "request.headers is not an object of strings",
        id="request-header-a-number",
    ),
    pytest.param(
        set_at("response", "headers", {"retry-after": 5}),
        "response.headers is not an object of strings",
        id="response-header-a-number",
    ),
    pytest.param(
        edited(lambda d: d.update(recorded=["yesterday"])),
        "recorded is not an object",
        id="recorded-a-list",
    ),
    pytest.param(
        drop("request", "method"), "field 'method' is None, expected str", id="missing-method"
    ),
    pytest.param(
        set_at("request", "url", 8000), "field 'url' is 8000, expected str", id="url-a-number"
    ),
    pytest.param(
        set_at("request", "endpoint", ["/v1/chat/completions"]),
        "request.endpoint is not a string",
        id="endpoint-a-list",
    ),
    pytest.param(
        edited(edit_message_by_hand),
        "does not match its request (hash ",
        id="body-edited-by-hand",
    ),
    pytest.param(drop("key"), "its key None does not match its request", id="missing-key"),
    pytest.param(
        edited(edit_message_and_rehash),
        "but its name says 820851d3de980ffb",
        id="another-request-under-this-name",
    ),
]


# Broken files that are not reported as such today. Each fails the test some other way: with a
# traceback through json/openai, or an error in the test's own code that does not name the file.
NOT_YET_REPORTED = [
    pytest.param(
        lambda text, doc: "[" * 100_000 + "]" * 100_000,
        "not valid JSON",
        id="deeply-nested",
    ),
    pytest.param(
        edited(with_invalid_data),
        "does not validate as",
        id="data-fails-its-type",
    ),
    pytest.param(
        set_at("response", "status", -1),
        "status",
        id="status-out-of-range",
    ),
]


def assert_reported(result: pytest.RunResult, path: Path, says: str) -> None:
    """One failed test, reported by a message naming ``path`` and saying ``says``, without a
    traceback or a frame of the library, httpx or openai."""
    output = result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=1)
    assert f"bad recording {path}: " in output
    assert says in output
    assert "Traceback" not in output
    assert "Connection error" not in output
    frame = FRAME.search(output)
    assert frame is None, f"a frame of the library or the HTTP stack: {frame.group()!r}"


def run_seed_test(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(test_chat=SEED_TEST)
    # The hypothesis plugin imports hypothesis afresh in every in-process run: a second each.
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def put_good_recording(pytester: pytest.Pytester) -> Path:
    return Path(DirectoryStore(pytester.path / "recordings").put(_good_recording(), 0).path)


@pytest.mark.parametrize(("mutate", "says"), CASES + NOT_YET_REPORTED)
def test_a_bad_recording_fails_its_test_with_a_plain_message(
    pytester: pytest.Pytester, mutate: Mutation, says: str
) -> None:
    path = put_good_recording(pytester)
    good = path.read_text(encoding="utf-8")
    broken = mutate(good, json.loads(good))
    assert broken != good
    if isinstance(broken, bytes):
        path.write_bytes(broken)
    else:
        path.write_text(broken, encoding="utf-8")
    # evil_mod is importable by the run: a file naming it must still not import it.
    pytester.makepyfile(evil_mod=EVIL_MODULE)
    pytester.syspathinsert()

    result = run_seed_test(pytester)

    assert_reported(result, path, says)
    assert not (pytester.path / "evil_mod_was_imported").exists()
    assert not (pytester.path / "evil_mod_thing_was_called").exists()


def test_the_marker_module_would_have_been_seen(pytester: pytest.Pytester) -> None:
    """The control of the evil_mod case: importing the module does leave its marker."""
    pytester.makepyfile(evil_mod=EVIL_MODULE)
    pytester.syspathinsert()
    importlib.import_module("evil_mod")
    assert (pytester.path / "evil_mod_was_imported").exists()


def test_the_good_recording_passes(pytester: pytest.Pytester) -> None:
    """The control of every case: unbroken, the same file replays and the test passes."""
    put_good_recording(pytester)
    run_seed_test(pytester).assert_outcomes(passed=1)


def test_a_stream_without_its_end_marker_replays(pytester: pytest.Pytester) -> None:
    """Not a broken file: a stream the server ended without ``data: [DONE]`` is recorded as
    it came (docs/recording-format.md, "When a stream is saved"), so it replays as it is."""
    path = put_good_recording(pytester)
    document = json.loads(path.read_text(encoding="utf-8"))
    without_done(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    run_seed_test(pytester).assert_outcomes(passed=1)


def test_a_folder_in_place_of_the_recording(pytester: pytest.Pytester) -> None:
    path = put_good_recording(pytester)
    path.unlink()
    path.mkdir()
    assert_reported(run_seed_test(pytester), path, "")
