"""Where recordings live: a folder with one subfolder per test, or a list in memory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from replay.core.recording import Recording, dumps, loads
from replay.errors import RecordingFileError
from replay.store.directory import DirectoryStore, write_atomic
from replay.store.layout import endpoint_folder
from replay.store.memory import MemoryStore

CHAT = "/v1/chat/completions"


def make(content: str = "Hi", body: dict[str, Any] | None = None, **changes: Any) -> Recording:
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "smollm2",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    fields: dict[str, Any] = {
        "method": "POST",
        "url": "http://127.0.0.1:8080/v1/chat/completions",
        "endpoint": CHAT,
        "body": body or {"model": "smollm2", "messages": [{"role": "user", "content": "hi"}]},
        "status": 200,
        "content_type": "text/event-stream",
        "is_streaming": True,
        "events": [chunk, "[DONE]"],
    }
    fields.update(changes)
    return Recording(**fields)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "folder"),
    [
        ("/v1/chat/completions", "chat_completions"),
        ("/v1/completions", "completions"),
        ("/v1/embeddings", "embeddings"),
        ("/v1/models", "models"),
        ("/v2/chat/completions", "chat_completions"),
        ("/chat/completions", "chat_completions"),
        ("/v1/models/", "models"),
        ("/api/v1/chat", "api_v1_chat"),
        ("/version/x", "version_x"),
        ("/v1", "root"),
        ("/", "root"),
    ],
)
def test_endpoint_folder(endpoint: str, folder: str) -> None:
    assert endpoint_folder(endpoint) == folder


# --- DirectoryStore ----------------------------------------------------------------------


def test_put_get_round_trip(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    recording = make()
    where = store.put(recording, 0).path
    expected = tmp_path / "_shared" / f"chat_completions-{recording.key[:16]}.json"
    assert where == str(expected)
    assert expected.is_file()
    assert expected.read_text(encoding="utf-8") == dumps(recording)
    got = store.get(None, recording.key, 0, CHAT)
    assert got is not None
    assert got.source == str(expected)
    assert dumps(got) == dumps(recording)
    assert got.events == recording.events


def test_repeats_of_a_request_get_numbered_files(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    first, second = make("first"), make("second")
    assert first.key == second.key  # same request, different answers
    store.put(first, 0)
    where = store.put(second, 1).path
    assert Path(where).name == f"chat_completions-{first.key[:16]}-2.json"
    assert sorted(p.name for p in (tmp_path / "_shared").iterdir()) == [
        f"chat_completions-{first.key[:16]}-2.json",
        f"chat_completions-{first.key[:16]}.json",
    ]
    got_first = store.get(None, first.key, 0, CHAT)
    got_second = store.get(None, first.key, 1, CHAT)
    assert got_first is not None and got_second is not None
    assert got_first.events == first.events
    assert got_second.events == second.events


def test_put_names_the_file_by_endpoint(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "recordings")
    recording = make(endpoint="/v1/embeddings", url="http://h/v1/embeddings")
    where = Path(store.put(recording, 0).path)
    assert where.parent == tmp_path / "recordings" / "_shared"
    assert where.name.startswith("embeddings-")


def test_get_returns_none_when_missing(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "does-not-exist-yet")
    recording = make()
    assert store.get(None, recording.key, 0, CHAT) is None
    store.put(recording, 0)
    assert store.get(None, recording.key, 1, CHAT) is None
    assert store.get(None, recording.key, 0, "/v1/completions") is None
    assert store.get(None, make(body={"other": 1}).key, 0, CHAT) is None


def test_put_overwrites(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.put(make("old"), 0)
    store.put(make("new"), 0)
    got = store.get(None, make().key, 0, CHAT)
    assert got is not None
    assert got.events == make("new").events


def test_describe_names_the_path(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    key = make().key
    described = store.describe(None, key, 1, CHAT)
    assert described == str(tmp_path / "_shared" / f"chat_completions-{key[:16]}-2.json")
    assert described == str(store.path(None, key, 1, CHAT))


def test_get_rejects_a_file_that_answers_another_request(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    wanted = make()
    other = make(body={"model": "other"})
    path = store.path(None, wanted.key, 0, CHAT)
    path.parent.mkdir(parents=True)
    path.write_text(dumps(other), encoding="utf-8")
    with pytest.raises(RecordingFileError) as caught:
        store.get(None, wanted.key, 0, CHAT)
    assert str(path) in str(caught.value)
    assert other.key in str(caught.value)


def test_get_of_a_broken_file_names_it(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    key = make().key
    path = store.path(None, key, 0, CHAT)
    path.parent.mkdir(parents=True)
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(RecordingFileError, match="not valid JSON") as caught:
        store.get(None, key, 0, CHAT)
    assert caught.value.path == str(path)


# --- scopes: each test's own, then the shared ones ----------------------------------------

TEST_A = "tests/test_app.py::test_a"
TEST_B = "tests/test_app.py::test_b"


def test_a_test_finds_its_own_recording_by_its_place(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    recording = make("A's answer", test=TEST_A)
    where = store.put(recording, 0).path
    assert where == str(
        tmp_path / "tests/test_app/test_a" / f"chat_completions-{recording.key[:16]}.json"
    )
    got = store.get(TEST_A, recording.key, 0, CHAT)
    assert got is not None and got.test == TEST_A and got.events == recording.events


def test_a_test_never_finds_another_tests_recording(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    recording = make("A's answer", test=TEST_A)
    store.put(recording, 0)
    assert store.get(TEST_B, recording.key, 0, CHAT) is None
    assert store.get(None, recording.key, 0, CHAT) is None
    assert list(store.neighbours(TEST_B, CHAT)) == []


def test_two_tests_with_the_same_request_keep_two_files(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    first, second = make("A's", test=TEST_A), make("B's", test=TEST_B)
    assert first.key == second.key
    store.put(first, 0)
    store.put(second, 0)
    got_a = store.get(TEST_A, first.key, 0, CHAT)
    got_b = store.get(TEST_B, first.key, 0, CHAT)
    assert got_a is not None and got_a.events == first.events
    assert got_b is not None and got_b.events == second.events


def test_a_version_1_file_is_read_as_shared(tmp_path: Path) -> None:
    """A file of the flat layout (``<endpoint>/<hash16>.json``, version 1) replays as shared."""
    store = DirectoryStore(tmp_path)
    recording = make("old")
    text = dumps(recording).replace('"version": 2', '"version": 1').replace('  "test": null,\n', "")
    path = tmp_path / "chat_completions" / f"{recording.key[:16]}.json"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    got = store.get(None, recording.key, 0, CHAT)
    assert got is not None and got.test is None and got.source == str(path)
    assert store.get(TEST_A, recording.key, 0, CHAT) is None  # the player asks shared next


def test_the_miss_names_both_places_looked_at(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    key = make().key
    described = store.describe(TEST_A, key, 0, CHAT)
    assert str(tmp_path / "tests/test_app/test_a") in described
    assert str(tmp_path / "_shared") in described


# --- re-recording the same answer leaves the file as it was ---------------------------------


def test_a_re_recording_that_differs_only_in_noise_keeps_the_file(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    old = make("same", test=TEST_A, recorded={"at": "2026-01-01T00:00:00+00:00"})
    path = Path(store.put(old, 0).path)
    before = path.read_bytes()
    noisy = make(
        "same",
        test=TEST_A,
        url="http://127.0.0.1:9999/v1/chat/completions",
        response_headers={"x-request-id": "another"},
        event_ms=[1.0, 2.0],
        recorded={"at": "2026-02-02T00:00:00+00:00"},
    )
    noisy.events[0] = {**noisy.events[0], "id": "chatcmpl-other", "created": 99}
    saved = store.put(noisy, 0)
    assert saved.written is False and saved.path == str(path)
    assert path.read_bytes() == before


def test_a_re_recording_with_another_answer_replaces_the_file(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    path = Path(store.put(make("old", test=TEST_A), 0).path)
    saved = store.put(make("new", test=TEST_A), 0)
    assert saved.written is True
    got = loads(path.read_bytes())
    assert got.events == make("new").events


# --- write_atomic ------------------------------------------------------------------------


def test_write_atomic_writes_the_text(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "file.json"
    write_atomic(path, "héllo 世界\n")
    assert path.read_bytes() == "héllo 世界\n".encode()
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.json"]


def test_write_atomic_keeps_newlines_as_written(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    write_atomic(path, "a\nb\n")
    assert path.read_bytes() == b"a\nb\n"


def test_write_atomic_mode_is_0644(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    write_atomic(path, "{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    write_atomic(path, "{}\n")  # replacing keeps it so
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_write_atomic_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.json"
    write_atomic(path, "old\n")

    def broken_replace(src: Any, dst: Any) -> None:
        # The new content was fully written to a temporary file in the same folder.
        assert Path(src).parent == path.parent
        assert Path(src).read_text(encoding="utf-8") == "new\n"
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.json"]


def test_write_atomic_failure_while_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.json"
    write_atomic(path, "old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError("fsync failed")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="fsync failed"):
        write_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.json"]


def test_put_failure_keeps_the_old_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryStore(tmp_path)
    store.put(make("old"), 0)

    def broken_replace(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        store.put(make("new"), 0)
    got = store.get(None, make().key, 0, CHAT)
    assert got is not None
    assert got.events == make("old").events
    assert leftovers(tmp_path) == []


# --- MemoryStore -------------------------------------------------------------------------


def test_memory_store_keeps_identical_requests_in_order() -> None:
    first, second, third = make("1"), make("2"), make("3")
    other = make("x", body={"model": "other"})
    store = MemoryStore([first, other, second, third])
    key = first.key
    assert store.get(None, key, 0, CHAT) is first
    assert store.get(None, key, 1, CHAT) is second
    assert store.get(None, key, 2, CHAT) is third
    assert store.get(None, key, 3, CHAT) is None
    assert store.get(None, other.key, 0, CHAT) is other
    assert store.get(None, other.key, 1, CHAT) is None


def test_memory_store_add_appends() -> None:
    store = MemoryStore()
    first, second = make("1"), make("2")
    assert store.get(None, first.key, 0, CHAT) is None
    store.add(first)
    store.add(second)
    assert store.get(None, first.key, 1, CHAT) is second


def test_memory_store_put_and_describe() -> None:
    store = MemoryStore()
    recording = make()
    where = store.put(recording, 1).path
    assert recording.key[:16] in where
    assert store.get(None, recording.key, 1, CHAT) is recording
    assert store.get(None, recording.key, 0, CHAT) is None
    assert recording.key[:16] in store.describe(None, recording.key, 0, CHAT)


def test_memory_store_from_files_keeps_file_order(tmp_path: Path) -> None:
    paths = []
    for n, content in enumerate(["a", "b"]):
        path = tmp_path / f"{n}.json"
        path.write_text(dumps(make(content)), encoding="utf-8")
        paths.append(path)
    seed = Path(__file__).parent / "seeds" / "002_1b278b56b763379a.txt"
    store = MemoryStore.from_files([*paths, seed])
    key = make().key
    got = [store.get(None, key, i, CHAT) for i in range(2)]
    assert [r.events if r else None for r in got] == [make("a").events, make("b").events]
    seed_recording = loads(seed.read_bytes())
    seed_key = seed_recording.key
    loaded = store.get(None, seed_key, 0, "/v1/chat/completions")
    assert loaded is not None
    assert loaded.source == str(seed)
    assert len(loaded.events) == len(json.loads(seed.read_text())["response"]["body"])
