"""Issue 14's adversarial cases, each recorded against a server that misbehaves on purpose
(``tests/hostile_server.py``, on 127.0.0.1) or replayed from recordings llama.cpp made.

1. replay from a read-only checkout; 2. close-delimited streams cut short; 3. compressed
answers; 4. secrets on disk; 5. secrets in messages; 6. FIFOs, devices and slow misses;
7. files the SDK cannot read; 8. folders that cannot be written; 9. a second event loop.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from replay.cli.command_line import main as llm_replay
from replay.core.http_flavours import default_flavour, flavour_module
from replay.core.recording import Recording, from_json, loads
from replay.core.redaction import REDACTED, Redaction
from replay.errors import LLMReplayError, ReplayMiss
from replay.player import Player, Rules
from replay.store.bounded_search import Bounded
from replay.store.directory import DirectoryStore
from replay.store.memory import MemoryStore
from replay.transports.httpx_transport import replay_transport
from tests.conftest import recording_files
from tests.hostile_server import STREAMED_KEY, HostileServer
from tests.test_docs import quickstart_test

REPO = Path(__file__).resolve().parents[1]
REAL = REPO / "tests" / "data" / "v1-recordings"  # version-1 files, read as shared
# A chat request llama.cpp answered in the committed recordings (the quickstart's joke).
JOKE_FILE = REAL / "chat_completions" / "bd3faea6f2e70907.json"
KEY = "sk-proj-Abc123Def456Ghi789Jkl012Mno345"
MESSAGES = [{"role": "user", "content": "Tell me a story"}]


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


OPENED: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def client(player: Player, base_url: str, **options: Any) -> openai.OpenAI:
    http = raw(player)
    return openai.OpenAI(base_url=base_url, api_key="unused", http_client=http, **options)


def raw(player: Player) -> Any:
    """An httpx/httpx2 client on the transport, for requests the SDK would not make."""
    http = flavour_module(default_flavour()).Client(transport=replay_transport(player))
    OPENED.append(http)
    return http


def recorder(folder: Path, **options: Any) -> Player:
    return Player(DirectoryStore(folder), "record", **options)


def only_recording(folder: Path) -> tuple[Recording, str]:
    [path] = recording_files(folder)
    text = path.read_text(encoding="utf-8")
    return loads(text, str(path)), text


# --- 2. a stream is complete only when its protocol says so ----------------------------


def test_a_close_delimited_stream_cut_short_is_not_recorded(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    chat = client(player, hostile.base_url("truncated"), max_retries=0)
    stream = chat.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "Once upon a time", "the client read three events and a clean close"
    assert player.stats.recorded == 0
    assert recording_files(tmp_path) == []


@pytest.mark.parametrize("mode", ["close-done", "anthropic-close", "responses-close"])
def test_a_close_delimited_stream_that_says_it_ended_is_recorded(
    hostile: HostileServer, tmp_path: Path, mode: str
) -> None:
    player = recorder(tmp_path)
    http = raw(player)
    with http.stream(
        "POST", hostile.base_url(mode) + "/messages", json={"stream": True}
    ) as response:
        wire = b"".join(response.iter_bytes())
    assert player.stats.recorded == 1
    recording, _ = only_recording(tmp_path)
    replayed = Player(DirectoryStore(tmp_path), "replay")
    again = raw(replayed).post(hostile.base_url(mode) + "/messages", json={"stream": True})
    assert data_of(again.content) == data_of(wire) and len(data_of(wire)) >= 3
    assert recording.is_streaming


def data_of(wire: bytes) -> list[Any]:
    """The data of each event, parsed where it is JSON (replay writes JSON compact)."""
    lines = [line[5:].strip() for line in wire.decode().splitlines() if line.startswith("data:")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


def test_an_anthropic_stream_cut_before_message_stop_is_not_recorded(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    with raw(player).stream(
        "POST", hostile.base_url("anthropic-cut") + "/messages", json={"stream": True}
    ) as response:
        assert b"content_block_delta" in b"".join(response.iter_bytes())
    assert player.stats.recorded == 0
    assert recording_files(tmp_path) == []


# --- 3. compressed answers -------------------------------------------------------------------


def test_a_gzipped_json_answer_is_recorded_decoded(hostile: HostileServer, tmp_path: Path) -> None:
    player = recorder(tmp_path)
    live = client(player, hostile.base_url("gzip-json"))
    answer = live.chat.completions.create(model="m", messages=MESSAGES)
    assert player.stats.recorded == 1
    _, text = only_recording(tmp_path)
    assert "content-encoding" not in text
    assert '"content": "Once upon a time"' in text
    replayed = client(Player(DirectoryStore(tmp_path), "replay"), hostile.base_url("gzip-json"))
    again = replayed.chat.completions.create(model="m", messages=MESSAGES)
    assert again.model_dump() == answer.model_dump()
    assert llm_replay(["--dir", str(tmp_path), "verify"]) == 0


def test_a_gzipped_stream_is_recorded_decoded(hostile: HostileServer, tmp_path: Path) -> None:
    player = recorder(tmp_path)
    live = client(player, hostile.base_url("gzip-stream"))
    stream = live.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Once upon a time"
    assert player.stats.recorded == 1
    recording, _ = only_recording(tmp_path)
    assert len(recording.events) == 4 and recording.events[-1] == "[DONE]"
    replayed = client(Player(DirectoryStore(tmp_path), "replay"), hostile.base_url("gzip-stream"))
    again = replayed.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in again) == "Once upon a time"


def test_an_encoding_the_recorder_cannot_undo_is_refused_with_the_reason(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    with pytest.raises(LLMReplayError, match=r"content-encoding 'br'.*send it uncompressed"):
        raw(player).post(hostile.base_url("brotli-json") + "/chat/completions", json={})
    assert player.stats.recorded == 0
    assert recording_files(tmp_path) == []


def test_verify_flags_a_compressed_body_saved_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-made file: what the recorder wrote before it decoded (gzip bytes read as text)."""
    document = json.loads(JOKE_FILE.read_text(encoding="utf-8"))
    document["response"] |= {"is_streaming": False, "content_type": "application/json"}
    document["response"].pop("event_ms")
    garbage = gzip.compress(b'{"object": "chat.completion"}').decode("utf-8", errors="replace")
    document["response"]["body"] = garbage
    target = tmp_path / "chat_completions" / JOKE_FILE.name
    target.parent.mkdir()
    target.write_text(json.dumps(document), encoding="utf-8")
    assert llm_replay(["--dir", str(tmp_path), "verify"]) == 1
    out = capsys.readouterr().out
    assert f"{target}: response.body is text that is not JSON" in out
    assert "binary data" in out and "1 problem" in out


# --- 4. secrets on disk ---------------------------------------------------------------------


def test_the_password_of_a_url_is_not_written(hostile: HostileServer, tmp_path: Path) -> None:
    player = recorder(tmp_path)
    live = client(player, hostile.base_url("chat", userinfo="user:PASSWORD123@"))
    live.chat.completions.create(model="m", messages=MESSAGES)
    recording, text = only_recording(tmp_path)
    assert "PASSWORD123" not in text and "user:" not in text
    assert recording.url.startswith(f"http://127.0.0.1:{hostile.port}/chat/v1/")
    assert recording.recorded["server"] == f"http://127.0.0.1:{hostile.port}"


@pytest.mark.parametrize(
    ("name", "query", "body"),
    [
        ("a percent-encoded key in the query", "?q=sk%2Dproj%2DAbc123Def456Ghi789Jkl0", None),
        ("a \\u-escaped key in a form body", "", b"note=\\u0073k-proj-Abc123Def456Ghi789Jkl0"),
        ("a key right after a -", "", b'{"note": "req-' + KEY.encode() + b'"}'),
    ],
)
def test_a_key_in_disguise_stops_the_write(
    hostile: HostileServer, tmp_path: Path, name: str, query: str, body: bytes | None
) -> None:
    player = recorder(tmp_path)
    url = hostile.base_url("chat") + "/chat/completions" + query
    with pytest.raises(LLMReplayError, match=r"looks like a secret.*OpenAI API key 'sk-pro…'"):
        raw(player).post(url, content=body or b"{}")
    assert recording_files(tmp_path) == [], name


@pytest.mark.parametrize("mode", ["split-key", "request-id-key"])
def test_a_key_the_server_sends_stops_the_write(
    hostile: HostileServer, tmp_path: Path, mode: str
) -> None:
    """Streamed across two deltas (in no single event), or in x-request-id after "req-"."""
    player = recorder(tmp_path)
    live = client(player, hostile.base_url(mode), max_retries=0)
    with pytest.raises(LLMReplayError) as caught:
        if mode == "split-key":
            for _ in live.chat.completions.create(model="m", messages=MESSAGES, stream=True):
                pass
        else:
            live.chat.completions.create(model="m", messages=MESSAGES)
    assert "looks like a secret" in str(caught.value) and STREAMED_KEY not in str(caught.value)
    assert recording_files(tmp_path) == []


def test_values_named_like_secrets_are_redacted_by_default(
    hostile: HostileServer, tmp_path: Path
) -> None:
    player = recorder(tmp_path)
    url = hostile.base_url("chat") + "/chat/completions?api_key=plain1&access_token=plain2&n=1"
    schema = {"properties": {"password": {"type": "string"}}}
    body = {"model": "m", "max_tokens": 5, "client_secret": "plain3", "db_password": "plain4",
            "tools": [{"parameters": schema}]}  # fmt: skip
    headers = {"x-goog-api-key": "plain5", "x-auth-token": "plain6", "x-team": "kept"}
    raw(player).post(url, json=body, headers=headers)
    recording, text = only_recording(tmp_path)
    for secret in ("plain1", "plain2", "plain3", "plain4", "plain5", "plain6"):
        assert secret not in text
    assert "?api_key=<redacted>&access_token=<redacted>&n=1" in recording.url
    assert recording.body["client_secret"] == REDACTED and recording.body["max_tokens"] == 5
    assert recording.body["tools"] == body["tools"], "a schema is no secret value"
    assert recording.headers["x-goog-api-key"] == REDACTED
    assert recording.headers["x-team"] == "kept"
    # Another value of each replays the recording: the hash does not depend on them.
    replayed = raw(Player(DirectoryStore(tmp_path), "replay"))
    other = url.replace("plain", "other")
    again = replayed.post(other, json={**body, "client_secret": "x", "db_password": "y"})
    assert again.json()["object"] == "chat.completion"


def test_a_name_listed_as_not_secret_is_kept(hostile: HostileServer, tmp_path: Path) -> None:
    redaction = Redaction(not_secret=frozenset({"Session_Token"}))
    player = recorder(tmp_path, rules=Rules(redaction=redaction))
    raw(player).post(
        hostile.base_url("chat") + "/chat/completions",
        json={"model": "m", "session_token": "visible", "api_key": "hidden"},
    )
    recording, _ = only_recording(tmp_path)
    assert recording.body == {"model": "m", "session_token": "visible", "api_key": REDACTED}


# --- 9. a second event loop in one test --------------------------------------------------

TWO_LOOPS = """
import asyncio

import openai
import pytest


async def ask(word):
    async with openai.AsyncOpenAI(max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": word}], stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])


@pytest.mark.llm_replay
def test_two_loops():
    assert asyncio.run(ask("one")) == "Once upon a time"
    assert asyncio.run(ask("two")) == "Once upon a time"
"""


@pytest.mark.parametrize("mode", ["record", "live"])
def test_two_event_loops_in_one_test_record_and_live(
    pytester: pytest.Pytester, hostile: HostileServer, mode: str
) -> None:
    """Each ``asyncio.run`` with its own ``async with openai.AsyncOpenAI()``: a keep-alive
    connection of the first loop must not be used from the second."""
    pytester.makepyfile(TWO_LOOPS)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--record-mode", mode,
        "--llm-server-url", hostile.base_url("chat"),
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    recorded = 2 if mode == "record" else 0
    result.stdout.fnmatch_lines([f"*0 replayed, {recorded} recorded, 0 missed*"])
    if mode == "record":  # the same path under the same base URL, with no server needed
        replayed = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--llm-server-url", hostile.base_url("chat")
        )
        replayed.assert_outcomes(passed=1)
        replayed.stdout.fnmatch_lines(["*2 replayed, 0 recorded, 0 missed*"])


# --- 1. replay from a read-only checkout -----------------------------------------------------

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
CHAT_TEST = """
def test_chat(llm_replay):
    answer = llm_replay.openai(max_retries=0).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Tell me a story"}])
    assert answer.choices[0].message.content == "Once upon a time"
"""


def unprivileged(*command: str) -> list[str]:
    """``command`` run as a user who cannot write the project (the sandbox runs as root,
    who writes anywhere)."""
    return [*NOBODY, *command] if os.geteuid() == 0 else list(command)


@pytest.fixture
def readonly_project() -> Iterator[Path]:
    """A checkout of the quickstart's test and the committed recordings (made by llama.cpp)
    that the user running the tests may read but not write."""
    project = Path(tempfile.mkdtemp(prefix="llm-replay-readonly-"))
    try:
        (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (project / "test_joke.py").write_text(quickstart_test(), encoding="utf-8")
        shutil.copytree(REAL, project / "recordings", ignore=shutil.ignore_patterns(".*"))
        for path in [project, *project.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        yield project
    finally:
        for path in [project, *project.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(project)


def run_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        unprivileged(sys.executable, "-m", "pytest", *args),
        cwd=project, capture_output=True, text=True, timeout=300, env=environment,
    )  # fmt: skip


def test_replay_from_a_read_only_checkout_passes_with_the_normal_summary(
    readonly_project: Path,
) -> None:
    probe = subprocess.run(
        unprivileged(sys.executable, "-c", "open('recordings/x', 'w')"),
        cwd=readonly_project, capture_output=True, text=True,
    )  # fmt: skip
    assert "PermissionError" in probe.stderr, "the run below cannot write the checkout"
    result = run_in(readonly_project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "1 replayed, 0 recorded, 0 missed" in result.stdout
    assert "the usage of this run was not kept in pytest's cache" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# --- 8. folders that cannot be written -------------------------------------------------------


def test_recording_into_a_read_only_folder_says_which_and_what_to_do(
    readonly_project: Path, hostile: HostileServer
) -> None:
    (readonly_project / "test_joke.py").chmod(0o644)
    (readonly_project / "test_joke.py").write_text(CHAT_TEST, encoding="utf-8")
    result = run_in(
        readonly_project, "-p", "no:cacheprovider", "--record", "--llm-server-url",
        hostile.base_url("chat"),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout
    folder = readonly_project / "recordings"
    assert (
        f"cannot write recordings in {folder} (Permission denied): make the folder writable, "
        "or record into another with --llm-recordings-dir"
    ) in result.stdout.replace("\n", "")
    assert "Traceback" not in result.stdout and "site-packages" not in result.stdout


@pytest.mark.parametrize("mode", ["record", "replay"])
def test_a_recordings_dir_that_is_a_file_says_so(
    pytester: pytest.Pytester, hostile: HostileServer, mode: str
) -> None:
    pytester.makepyfile(CHAT_TEST)
    (pytester.path / "notes.txt").write_text("not a folder\n", encoding="utf-8")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--record-mode", mode, "--llm-recordings-dir", "notes.txt",
        "--llm-server-url", hostile.base_url("chat"),
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert f"{pytester.path / 'notes.txt'} is a file, not a folder" in output
    assert "--llm-recordings-dir (ini llm_replay_dir) at a folder" in output
    assert "cannot be read (Not a directory)" not in output and "Traceback" not in output


def test_a_name_too_long_for_the_file_system_says_so(
    pytester: pytest.Pytester, hostile: HostileServer
) -> None:
    pytester.makepyfile(CHAT_TEST)
    long = "r" * 300
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--record", "--llm-recordings-dir", long,
        "--llm-server-url", hostile.base_url("chat"),
    )  # fmt: skip
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "is 300 characters, longer than the file system allows" in output
    assert "Choose a shorter --llm-recordings-dir" in output and "Traceback" not in output


# --- 5. secrets in messages --------------------------------------------------------------


def test_a_miss_shows_no_key_in_its_diff(pytester: pytest.Pytester, hostile: HostileServer) -> None:
    pytester.makepyfile(CHAT_TEST.replace('"Tell me a story"}]', '"Tell me a story"}], user=U'))
    (pytester.path / "conftest.py").write_text("", encoding="utf-8")
    source = pytester.path / "test_a_miss_shows_no_key_in_its_diff.py"
    text = source.read_text(encoding="utf-8")
    source.write_text(f"U = 'user-1'\n{text}", encoding="utf-8")
    url = ("--llm-server-url", hostile.base_url("chat"))
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record", *url).assert_outcomes(
        passed=1
    )
    source.write_text(f"U = {KEY!r}\n{text}", encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *url)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "~ body.user: 'user-1' -> 'sk-pro…'" in output
    assert KEY not in output and KEY[:12] not in output


def test_show_masks_a_key_in_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-made file (the recorder refuses to write one): what ``show`` prints of it."""
    document = json.loads(JOKE_FILE.read_text(encoding="utf-8"))
    document["request"]["body"]["user"] = KEY
    recording = from_document(document, tmp_path)
    assert llm_replay(["--dir", str(tmp_path), "show", str(recording)]) == 0
    out = capsys.readouterr().out
    assert "sk-pro…" in out and KEY not in out


def from_document(document: dict[str, Any], folder: Path) -> Path:
    """Write an edited recording where replay looks for it (its key made to match)."""
    # The key depends on the request only: computed with the response of the original.
    original = json.loads(JOKE_FILE.read_text(encoding="utf-8"))["response"]
    request_only = {"request": document["request"], "response": original}
    edited = from_json(request_only)
    path = DirectoryStore(folder).path(None, edited.key, 0, edited.endpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**document, "key": edited.key}), encoding="utf-8")
    return path


# --- 6. FIFOs, devices and slow misses ---------------------------------------------------


def copy_of_recordings(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    shutil.copytree(REAL, folder, ignore=shutil.ignore_patterns(".*"))
    return folder


def joke(player: Player) -> str:
    """The quickstart's request, as the committed recording answers it."""
    sdk = client(player, "http://llm-playback.invalid/v1", max_retries=0)
    stream = sdk.chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "Tell me a joke"}],
        stream=True, temperature=0, max_tokens=32,
    )  # fmt: skip
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def within(seconds: float, work: Any) -> Any:
    """``work()``'s result or exception, failing the test if it takes longer than ``seconds``
    (a hang would otherwise hang the suite)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("value", work()))
        except BaseException as error:  # the exception is the outcome
            outcome.append(("error", error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


def test_a_fifo_or_device_named_like_a_recording_fails_fast_and_verify_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of_recordings(tmp_path)
    JOKE = folder / "chat_completions" / JOKE_FILE.name
    JOKE.unlink()
    os.mkfifo(JOKE)
    zero = folder / "chat_completions" / "0000000000000000.json"
    zero.symlink_to("/dev/zero")
    kind, error = within(10, lambda: joke(Player(DirectoryStore(folder), "replay")))
    assert kind == "error" and isinstance(error, LLMReplayError)
    assert f"bad recording {JOKE}: it is not a regular file but a FIFO" in str(error)
    # A miss on the same endpoint searches its neighbours, the device among them.
    other = client(Player(DirectoryStore(folder), "replay"), "http://llm-playback.invalid/v1")
    ask = {"model": "smollm2", "messages": [{"role": "user", "content": "Tell me a joke!"}]}
    kind, miss = within(10, lambda: other.chat.completions.create(**ask))
    assert kind == "error" and isinstance(miss, ReplayMiss), miss
    assert "nearest recording" in str(miss)
    assert within(10, lambda: llm_replay(["--dir", str(folder), "verify"])) == ("value", 1)
    out = capsys.readouterr().out
    assert f"{JOKE}: it is not a regular file but a FIFO" in out
    assert f"{zero}: it is not a regular file but a device" in out and "2 problems" in out


def test_a_miss_among_endless_recordings_stops_searching(tmp_path: Path) -> None:
    recording = loads(JOKE_FILE.read_bytes(), str(JOKE_FILE))

    class Endless(MemoryStore):
        def neighbours(self, test: str | None, endpoint: str) -> Iterator[Recording]:
            while True:
                yield recording

    player = Player(Endless(), "replay")
    kind, miss = within(20, lambda: raw(player).post(
        "http://llm-playback.invalid/v1/chat/completions", json={"model": "other"}
    ))  # fmt: skip
    assert kind == "error" and isinstance(miss, ReplayMiss)
    # The count bound, or on a very loaded machine the time bound, whichever comes first.
    bound = r"nearest recording \(searched (the first 500|\d+) recordings( in 0.5 s)? only\)"
    assert re.search(bound, str(miss)), str(miss)


def test_the_search_stops_at_its_time_bound() -> None:
    ticks = iter(range(100))
    bounded = Bounded(range(1000), count=1000, seconds=5, clock=lambda: next(ticks))
    assert list(bounded) == [0, 1, 2, 3, 4]
    assert bounded.cut == "5 recordings in 5 s"


# --- 7. files the SDK cannot read ------------------------------------------------------------

BROKEN = {
    "a body that is not JSON for a JSON content type": (
        lambda response: response.update(
            is_streaming=False, content_type="application/json", body="not {json"
        ),
        "response.body is text that is not JSON ('not {json'), for content type application/json",
    ),
    "a stream element 42": (
        lambda response: response["body"].insert(1, 42),
        "response.body[1] is the JSON 42: a stream element is an object",
    ),
    "a stream element of text that is not JSON": (
        lambda response: response["body"].insert(1, "garbage {"),
        "response.body[1] is text that is not JSON ('garbage {')",
    ),
    "a response header that is not ASCII": (
        lambda response: response["headers"].update({"x-request-id": "réq-1"}),
        "response header 'x-request-id' is 'réq-1', not printable ASCII",
    ),
    "a content type that is not ASCII": (
        lambda response: response.update(content_type="text/event-stream; charset=ütf-8"),
        "response response.content_type is 'text/event-stream; charset=ütf-8', not printable",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_file_the_sdk_cannot_read_is_named_at_replay_and_in_verify(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """Hand-made: a committed recording, edited as each case says."""
    edit, problem = BROKEN[case]
    document = json.loads(JOKE_FILE.read_text(encoding="utf-8"))
    edit(document["response"])
    if not document["response"]["is_streaming"]:
        document["response"].pop("event_ms")
    path = from_document(document, pytester.path / "recordings")
    (pytester.path / "test_joke.py").write_text(quickstart_test(), encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str().replace("\n", "")
    assert f"bad recording {path}: {problem}" in output, case
    assert "Fix the file or delete it and re-run pytest with --record" in output
    assert llm_replay(["--dir", str(pytester.path / "recordings"), "verify"]) == 1
    out = capsys.readouterr().out.replace("\n", "")
    assert f"{path}: {problem}" in out and "1 problem" in out
