"""``write_atomic`` under a writer killed mid-write and under readers racing a writer: the file
is always the old recording or the new one, whole, and no leftover looks like a recording."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replay.core.recording import Recording, dumps, loads
from replay.store.directory import DirectoryStore, write_atomic

ROOT = Path(__file__).resolve().parents[1]
CHAT = "/v1/chat/completions"
CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"

# Writes the two texts named on the command line to the target, alternately, until killed;
# says "ready" before the first write and "wrote <n>" after each.
WRITER = """
import sys
from pathlib import Path
from replay.store.directory import write_atomic

texts = [Path(name).read_text(encoding="utf-8") for name in sys.argv[1:3]]
target = Path(sys.argv[3])
print("ready", flush=True)
count = 0
while True:
    write_atomic(target, texts[count % 2])
    count += 1
    print("wrote", count, flush=True)
"""


def big_recording(word: str, size: int) -> Recording:
    """A streamed chat recording of one request whose text is about ``size`` bytes."""
    events: list[object] = []
    total = 0
    index = 0
    while total < size:
        content = f"{word} {index} — ünïcödé 世界 "
        chunk = {
            "id": "chatcmpl-big",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "smollm2",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
        }
        events.append({"__type__": CHUNK, "__data__": chunk})
        total += 520  # about the indented size of one event
        index += 1
    events.append("[DONE]")
    return Recording(
        method="POST",
        url="http://127.0.0.1:8080/v1/chat/completions",
        endpoint=CHAT,
        body={"model": "smollm2", "messages": [{"role": "user", "content": "go on"}]},
        status=200,
        content_type="text/event-stream",
        is_streaming=True,
        events=events,
        event_ms=[float(i) for i in range(len(events))],
    )


def leftovers(folder: Path, target: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path != target)


def assert_whole(target: Path, texts: tuple[bytes, bytes]) -> None:
    data = target.read_bytes()
    assert data in texts, f"{len(data)} bytes, neither text ({[len(t) for t in texts]})"
    loads(data, str(target))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_writer_killed_mid_write_leaves_the_old_file_or_the_new(tmp_path: Path) -> None:
    first, second = big_recording("alpha", 2_000_000), big_recording("beta", 2_300_000)
    assert first.key == second.key  # the same request: two takes of one recording file
    sources = []
    for name, recording in (("first.txt", first), ("second.txt", second)):
        source = tmp_path / name
        source.write_text(dumps(recording), encoding="utf-8")
        sources.append(source)
    texts = (sources[0].read_bytes(), sources[1].read_bytes())
    assert texts[0] != texts[1] and min(map(len, texts)) > 1_000_000  # over a megabyte each
    store = DirectoryStore(tmp_path / "recordings")
    target = store.path(None, first.key, 0, CHAT)
    folder = target.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }

    # Round 0 is killed 5 ms after the writer starts, likely before its first write ends; the
    # others 5 to 80 ms after the first write of the round ended (so that a loaded machine
    # still gives whole writes), somewhere in the writes that follow.
    delays_ms = [5 + 75 * round_ / 9 for round_ in range(10)]
    for round_, delay_ms in enumerate(delays_ms):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, *map(str, sources), str(target)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert writer.stdout is not None
        said: list[bytes] = []
        try:
            said.append(writer.stdout.readline())
            if round_ > 0 and said == [b"ready\n"]:
                said.append(writer.stdout.readline())
            time.sleep(delay_ms / 1000)
        finally:
            writer.send_signal(signal.SIGKILL)  # nothing if it is gone already
            _, stderr = writer.communicate(timeout=30)
        errors = stderr.decode(errors="replace")
        assert said == [b"ready\n", b"wrote 1\n"][: 1 + (round_ > 0)], errors
        assert writer.returncode == -signal.SIGKILL, errors

        if target.exists():
            assert_whole(target, texts)
            assert store.get(None, first.key, 0, CHAT) is not None
        else:
            assert round_ == 0, f"round {round_}: no file after a whole write"
        # A kill between mkstemp and os.replace leaves a temporary file: never a "*.json".
        left = leftovers(folder, target) if folder.exists() else []
        for name in left:
            assert name.startswith(".") and name.endswith(".tmp"), name
        assert len(left) <= round_ + 1
        if folder.exists():
            assert sorted(folder.glob("*.json")) == ([target] if target.exists() else [])
            assert [r.key for r in store.neighbours(None, CHAT)] == [first.key] * target.exists()


def test_readers_racing_a_writer_always_read_a_whole_file(tmp_path: Path) -> None:
    first, second = big_recording("alpha", 300_000), big_recording("beta", 400_000)
    store = DirectoryStore(tmp_path)
    target = Path(store.put(first, 0).path)
    sources = (dumps(second), dumps(first))
    texts = (sources[1].encode(), sources[0].encode())
    start = threading.Barrier(2)
    failures: list[BaseException] = []
    versions: set[int] = set()

    def writer() -> None:
        try:
            start.wait()
            for count in range(200):
                write_atomic(target, sources[count % 2])
        except BaseException as error:  # reported by the test thread
            failures.append(error)

    def reader() -> None:
        try:
            start.wait()
            for count in range(200):
                data = target.read_bytes()
                assert data in texts, f"read {count}: {len(data)} bytes, neither text"
                versions.add(texts.index(data))
                loads(data, str(target))
                recording = store.get(None, first.key, 0, CHAT)
                assert recording is not None
                assert recording.events in (first.events, second.events)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert_whole(target, texts)
    assert leftovers(target.parent, target) == []
