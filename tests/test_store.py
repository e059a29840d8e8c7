"""Where recordings live: a folder of files named by request hash, or a list in memory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from replay.errors import RecordingFileError
from replay.recording import Recording, dumps, loads
from replay.store import DirectoryStore, MemoryStore, endpoint_folder, file_name, write_atomic

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


def test_file_name() -> None:
    key = "0123456789abcdef" + "f" * 48
    assert file_name(key, 0) == "0123456789abcdef.json"
    assert file_name(key, 1) == "0123456789abcdef-2.json"
    assert file_name(key, 2) == "0123456789abcdef-3.json"


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
    where = store.put(recording, 0)
    expected = tmp_path / "chat_completions" / f"{recording.key[:16]}.json"
    assert where == str(expected)
    assert expected.is_file()
    assert expected.read_text(encoding="utf-8") == dumps(recording)
    got = store.get(recording.key, 0, CHAT)
    assert got is not None
    assert got.source == str(expected)
    assert dumps(got) == dumps(recording)
    assert got.events == recording.events


def test_repeats_of_a_request_get_numbered_files(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    first, second = make("first"), make("second")
    assert first.key == second.key  # same request, different answers
    store.put(first, 0)
    where = store.put(second, 1)
    assert Path(where).name == f"{first.key[:16]}-2.json"
    assert sorted(p.name for p in (tmp_path / "chat_completions").iterdir()) == [
        f"{first.key[:16]}-2.json",
        f"{first.key[:16]}.json",
    ]
    got_first = store.get(first.key, 0, CHAT)
    got_second = store.get(first.key, 1, CHAT)
    assert got_first is not None and got_second is not None
    assert got_first.events == first.events
    assert got_second.events == second.events


def test_put_in_the_endpoint_folder(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "recordings")
    recording = make(endpoint="/v1/embeddings", url="http://h/v1/embeddings")
    where = Path(store.put(recording, 0))
    assert where.parent == tmp_path / "recordings" / "embeddings"


def test_get_returns_none_when_missing(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "does-not-exist-yet")
    recording = make()
    assert store.get(recording.key, 0, CHAT) is None
    store.put(recording, 0)
    assert store.get(recording.key, 1, CHAT) is None
    assert store.get(recording.key, 0, "/v1/completions") is None
    assert store.get(make(body={"other": 1}).key, 0, CHAT) is None


def test_put_overwrites(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    store.put(make("old"), 0)
    store.put(make("new"), 0)
    got = store.get(make().key, 0, CHAT)
    assert got is not None
    assert got.events == make("new").events


def test_describe_names_the_path(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    key = make().key
    described = store.describe(key, 1, CHAT)
    assert described == str(tmp_path / "chat_completions" / f"{key[:16]}-2.json")
    assert described == str(store.path(key, 1, CHAT))


def test_get_rejects_a_file_that_answers_another_request(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    wanted = make()
    other = make(body={"model": "other"})
    path = store.path(wanted.key, 0, CHAT)
    path.parent.mkdir(parents=True)
    path.write_text(dumps(other), encoding="utf-8")
    with pytest.raises(RecordingFileError) as caught:
        store.get(wanted.key, 0, CHAT)
    assert str(path) in str(caught.value)
    assert other.key in str(caught.value)


def test_get_of_a_broken_file_names_it(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path)
    key = make().key
    path = store.path(key, 0, CHAT)
    path.parent.mkdir(parents=True)
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(RecordingFileError, match="not valid JSON") as caught:
        store.get(key, 0, CHAT)
    assert caught.value.path == str(path)


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
    got = store.get(make().key, 0, CHAT)
    assert got is not None
    assert got.events == make("old").events
    assert leftovers(tmp_path) == []


# --- MemoryStore -------------------------------------------------------------------------


def test_memory_store_keeps_identical_requests_in_order() -> None:
    first, second, third = make("1"), make("2"), make("3")
    other = make("x", body={"model": "other"})
    store = MemoryStore([first, other, second, third])
    key = first.key
    assert store.get(key, 0, CHAT) is first
    assert store.get(key, 1, CHAT) is second
    assert store.get(key, 2, CHAT) is third
    assert store.get(key, 3, CHAT) is None
    assert store.get(other.key, 0, CHAT) is other
    assert store.get(other.key, 1, CHAT) is None


def test_memory_store_add_appends() -> None:
    store = MemoryStore()
    first, second = make("1"), make("2")
    assert store.get(first.key, 0, CHAT) is None
    store.add(first)
    store.add(second)
    assert store.get(first.key, 1, CHAT) is second


def test_memory_store_put_and_describe() -> None:
    store = MemoryStore()
    recording = make()
    where = store.put(recording, 1)
    assert recording.key[:16] in where
    assert store.get(recording.key, 1, CHAT) is recording
    assert store.get(recording.key, 0, CHAT) is None
    assert recording.key[:16] in store.describe(recording.key, 0, CHAT)


def test_memory_store_from_files_keeps_file_order(tmp_path: Path) -> None:
    paths = []
    for n, content in enumerate(["a", "b"]):
        path = tmp_path / f"{n}.json"
        path.write_text(dumps(make(content)), encoding="utf-8")
        paths.append(path)
    seed = Path(__file__).parent / "seeds" / "002_1b278b56b763379a.txt"
    store = MemoryStore.from_files([*paths, seed])
    key = make().key
    got = [store.get(key, i, CHAT) for i in range(2)]
    assert [r.events if r else None for r in got] == [make("a").events, make("b").events]
    seed_recording = loads(seed.read_bytes())
    seed_key = seed_recording.key
    loaded = store.get(seed_key, 0, "/v1/chat/completions")
    assert loaded is not None
    assert loaded.source == str(seed)
    assert len(loaded.events) == len(json.loads(seed.read_text())["response"]["body"])
