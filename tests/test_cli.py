"""The llm-playback command line, run in-process on copies of the real llama.cpp recordings and
of the seeds; expected answers are computed from the files' JSON, not by the code under test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from replay.cli.command_line import main
from replay.core import typed_events
from replay.core.hashing import request_key
from replay.core.http_flavours import default_flavour, flavour_module
from replay.core.recording import loads
from replay.player import Player
from replay.store.directory import DirectoryStore
from replay.store.usage import CACHE_FILE, Usage
from replay.transports.httpx_transport import replay_transport
from tests.seedfiles import SEEDS, llama_stack_text

REAL = Path(__file__).resolve().parents[1] / "recordings"
SEED_002 = SEEDS / "002_1b278b56b763379a.txt"
SEED_003 = SEEDS / "003_11d0a2173aefbf3a.txt"
CHAT = "/v1/chat/completions"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the real recordings (modification times kept, no usage file)."""
    target = tmp_path / "recordings"
    shutil.copytree(REAL, target, ignore=shutil.ignore_patterns(".*"))
    return target


def endpoint_of(name: str) -> str:
    """The endpoint part of a recording's path: ``<scope>/<endpoint>-<hash>.json``."""
    return name.rsplit("/", 1)[-1].split("-")[0]


def keep_usage(folder: Path, usage: Usage) -> None:
    """The usage as the plugin keeps it, in the pytest cache beside the recordings folder."""
    path = folder.parent / ".pytest_cache" / CACHE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    document = usage.to_json() | {"recordings": str(folder.resolve())}
    path.write_text(json.dumps(document), encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*.json") if p.name[0] != "."
    )


def document(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value


def objects(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The response's JSON objects, typed envelopes opened."""
    body = doc["response"]["body"]
    elements = body if doc["response"]["is_streaming"] else [body]
    opened = [e["__data__"] if isinstance(e, dict) and "__type__" in e else e for e in elements]
    return [e for e in opened if isinstance(e, dict)]


def expected_texts(doc: dict[str, Any]) -> dict[int, str]:
    """Per choice, the text the response holds: delta.content, message.content or text."""
    texts: dict[int, str] = {}
    for value in objects(doc):
        for choice in value.get("choices") or []:
            part = choice.get("delta") or choice.get("message") or {}
            piece = part.get("content") if "text" not in choice else choice["text"]
            texts[choice["index"]] = texts.get(choice["index"], "") + (piece or "")
    return texts


def block(text: str) -> str:
    return "\n".join("  " + line for line in text.split("\n"))


def sdk(folder: Path) -> openai.OpenAI:
    transport = replay_transport(Player(DirectoryStore(folder), "replay"))
    http = flavour_module(default_flavour()).Client(transport=transport)
    return openai.OpenAI(base_url="http://replay.test:1/v1", api_key="unused", http_client=http)


def no_traceback(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 1


# --- the parser ---------------------------------------------------------------------------


def test_help_of_the_program_and_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    commands = ["ls", "show", "verify", "import-llama-stack", "prune", "migrate"]
    for command in commands:
        assert command in out
    for command in commands:
        code, out, _ = run(capsys, command, "--help")
        assert code == 0, command
        assert f"llm-playback {command}" in out and "--dir" in out


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "replay.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.returncode == 0, result.stderr
    assert "import-llama-stack" in result.stdout and "prune" in result.stdout


@pytest.mark.parametrize("argv", [[], ["show"], ["nonsense"], ["prune", "--no"]])
def test_a_bad_command_line_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage: llm-playback" in err


def test_dir_is_accepted_before_and_after_the_command(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    before = run(capsys, "--dir", folder, "ls")
    after = run(capsys, "ls", "--dir", folder)
    assert before == after and before[0] == 0


# --- ls -------------------------------------------------------------------------------------


def test_ls_lists_every_recording_in_columns(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    code, out, err = run(capsys, "--dir", folder, "ls")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == [
        "FILE", "TEST", "ENDPOINT", "MODEL", "STREAM", "EVENTS", "SIZE", "RECORDED"
    ]  # fmt: skip
    rows = {re.split(r"\s{2,}", line)[0]: re.split(r"\s{2,}", line) for line in lines[1:-1]}
    assert sorted(rows) == files(folder)
    for name, row in rows.items():
        doc = document(folder / name)
        request, response = doc["request"], doc["response"]
        streamed = response["is_streaming"]
        assert row[1] == doc["test"] and name.startswith(row[1].split(".py::")[0] + "/")
        assert row[2] == f"{request['method']} {request['endpoint']}"
        assert row[3] == (request["model"] or "-")
        assert row[4] == ("yes" if streamed else "no")
        assert row[5] == str(len(response["body"]) if streamed else 1)
        assert row[7] == doc["recorded"]["at"]
    starts = [match.start() for match in re.finditer(r"\S+", lines[0])]
    for line in lines[1:-1]:  # every cell starts under its heading
        assert all(line[at - 1] == " " and line[at] != " " for at in starts[1:]), line
    assert lines[-1] == f"{len(rows)} recordings in {folder}"


def test_ls_k_lists_the_recordings_of_matching_tests(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    owned = recordings_by_test(folder)
    test = next(test for test in owned if test.endswith("::test_joke"))
    code, out, _ = run(capsys, "--dir", folder, "ls", "-k", "JOKE")
    assert code == 0
    rows = [re.split(r"\s{2,}", line) for line in out.splitlines()[1:-1]]
    assert [row[0] for row in rows] == owned[test]
    assert all(row[1] == test for row in rows)
    code, out, _ = run(capsys, "--dir", folder, "ls", "-k", "no-such-test")
    assert code == 0 and "no recording in" in out and "no-such-test" in out


def test_ls_and_show_say_shared_for_a_recording_without_a_test(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    doc = document(folder / files(folder)[0])
    doc["test"] = None
    (folder / "_shared").mkdir()
    shared = folder / "_shared" / files(folder)[0].rsplit("/", 1)[1]
    shared.write_text(json.dumps(doc), "utf-8")
    _, out, _ = run(capsys, "--dir", folder, "ls")
    row = next(line for line in out.splitlines() if line.startswith("_shared/"))
    assert re.split(r"\s{2,}", row)[1] == "(shared)"
    _, out, _ = run(capsys, "--dir", folder, "show", shared)
    assert "test:     (shared) any test may replay it" in out
    _, out, _ = run(capsys, "--dir", folder, "show", folder / files(folder)[1])
    assert f"test:     {document(folder / files(folder)[1])['test']}\n" in out


def test_ls_lists_an_unreadable_file_with_its_problem(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    (folder / "_shared").mkdir()
    (folder / "_shared" / "chat_completions-0123456789abcdef.json").write_text("{", "utf-8")
    code, out, _ = run(capsys, "--dir", folder, "ls")
    assert code == 1
    row = next(line for line in out.splitlines() if "0123456789abcdef" in line)
    assert "UNREADABLE: not valid JSON" in row
    assert "1 unreadable" in out.splitlines()[-1]


def test_ls_of_a_missing_folder_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "--dir", tmp_path / "nowhere", "ls")
    assert code == 1 and out == ""
    assert f"no recordings folder {tmp_path / 'nowhere'}" in err and "--dir" in err
    no_traceback(err)


# --- show -----------------------------------------------------------------------------------


def text_recordings(folder: Path) -> list[str]:
    return [
        name
        for name in files(folder)
        if "completions" in name and document(folder / name)["response"]["status"] == 200
    ]


def test_show_by_file_reassembles_the_answer_of_every_completion(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    names = text_recordings(folder)
    assert len(names) >= 3  # streamed chat, plain chat, streamed text completion
    for name in names:
        doc = document(folder / name)
        code, out, _ = run(capsys, "--dir", folder, "show", name)
        assert code == 0, name
        texts = expected_texts(doc)
        assert list(texts) == [0] and texts[0].strip(), name
        assert "answer (finish_reason: " in out
        assert "\n" + block(texts[0]) + "\n" in out, name
        assert f"request:  {doc['request']['method']} {doc['request']['endpoint']}" in out
        assert block(json.dumps(doc["request"]["body"], indent=2, ensure_ascii=False)) in out


def test_show_by_hash_prefix_is_show_by_file(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    keys = {name: document(folder / name)["key"] for name in files(folder)}
    for name, key in keys.items():
        by_file = run(capsys, "--dir", folder, "show", folder / name)
        by_hash = run(capsys, "--dir", folder, "show", key[:6].upper())
        if list(keys.values()).count(key) > 1:  # -2.json: a repeat of the request
            assert by_hash[0] == 1 and "ambiguous" in by_hash[2]
            continue
        assert by_hash == by_file and by_hash[0] == 0
        assert f"hash:     {key}" in by_hash[1]


def test_show_timing_of_a_stream(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    name = next(n for n in files(folder) if document(folder / n)["response"]["is_streaming"])
    event_ms = document(folder / name)["response"]["event_ms"]
    _, out, _ = run(capsys, "--dir", folder, "show", name)
    rate = (len(event_ms) - 1) / ((event_ms[-1] - event_ms[0]) / 1000)
    assert f"timing:   first event after {event_ms[0]:.0f} ms, then {rate:.1f} events/s" in out


def test_show_embeddings_and_models(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    for name in files(folder):
        doc = document(folder / name)
        data = objects(doc)[0].get("data")
        _, out, _ = run(capsys, "--dir", folder, "show", name)
        if endpoint_of(name) == "embeddings" and doc["response"]["status"] == 200:
            vector = data[0]["embedding"]
            assert f"embeddings: {len(data)} vector" in out
            if isinstance(vector[0], list):  # llama.cpp without pooling: one per token
                assert f"{len(vector)} x {len(vector[0])} numbers (one vector per token)" in out
            elif isinstance(vector, list):
                assert f"{len(vector)} numbers" in out
        if endpoint_of(name) == "models" and doc["response"]["status"] == 200:
            ids = [model["id"] for model in data]
            assert f"models:   {len(ids)}: {', '.join(ids)}" in out


def test_show_an_http_error(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    name = next(n for n in files(folder) if endpoint_of(n) == "chat_completions")
    doc = document(folder / name)
    doc["response"] |= {
        "status": 404,
        "content_type": "application/json",
        "is_streaming": False,
        "body": {"error": {"message": "model 'x' not found", "type": "not_found_error"}},
    }
    (folder / name).write_text(json.dumps(doc), "utf-8")
    code, out, _ = run(capsys, "--dir", folder, "show", name)
    assert code == 0
    assert "error:    HTTP 404: model 'x' not found" in out
    for name in files(folder):  # and those llama.cpp sent, if any were recorded
        doc = document(folder / name)
        if doc["response"]["status"] >= 400:
            message = doc["response"]["body"]["error"]["message"]
            _, out, _ = run(capsys, "--dir", folder, "show", name)
            assert f"error:    HTTP {doc['response']['status']}: {message}\n" in out


def test_show_an_unknown_or_ambiguous_hash_fails(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    keys = {document(folder / name)["key"][:6] for name in files(folder)}
    unknown = next(f"{n:06x}" for n in range(1 << 24) if f"{n:06x}" not in keys)
    code, out, err = run(capsys, "--dir", folder, "show", unknown)
    assert code == 1 and out == ""
    assert f"no recording in {folder} has a request hash starting with {unknown}" in err
    no_traceback(err)

    name = files(folder)[0]
    repeat = name.replace(".json", "-2.json")
    shutil.copy(folder / name, folder / repeat)
    code, _, err = run(capsys, "--dir", folder, "show", document(folder / name)["key"][:8])
    assert code == 1
    assert "ambiguous" in err and name in err and repeat in err
    no_traceback(err)
    assert run(capsys, "--dir", folder, "show", repeat)[0] == 0

    code, _, err = run(capsys, "--dir", folder, "show", "no-such-file.json")
    assert code == 1 and "no file no-such-file.json" in err


# --- verify ---------------------------------------------------------------------------------


def test_verify_is_clean_on_the_real_recordings(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    code, out, err = run(capsys, "--dir", folder, "verify")
    assert (code, err) == (0, "")
    *warnings, summary = out.splitlines()
    assert summary == f"{len(files(folder))} recordings, 0 problems"
    assert all(line.startswith("warning: ") for line in warnings)


def test_verify_reports_a_broken_file(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    broken = folder / "_shared" / "chat_completions-0123456789abcdef.json"
    broken.parent.mkdir()
    broken.write_text("{", "utf-8")
    code, out, _ = run(capsys, "--dir", folder, "verify")
    assert code == 1
    assert f"{broken}: not valid JSON" in out
    assert f"{len(files(folder))} recordings, 1 problem\n" in out


def test_verify_reports_an_object_that_does_not_validate(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    name = next(n for n in text_recordings(folder) if endpoint_of(n) == "chat_completions")
    doc = document(folder / name)
    body = doc["response"]["body"]
    element = body[1] if doc["response"]["is_streaming"] else body
    assert element["__type__"].startswith("openai.types.chat.")
    element["__data__"]["choices"] = "not a list"
    (folder / name).write_text(json.dumps(doc), "utf-8")
    loads((folder / name).read_bytes())  # the file still loads: only its type is wrong
    code, out, _ = run(capsys, "--dir", folder, "verify")
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith(str(folder / name)))
    assert "does not validate as openai.types.chat" in line and "choices" in line
    assert "1 problem" in out


def test_verify_reports_a_file_replay_would_never_find(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    name = next(n for n in files(folder) if endpoint_of(n) == "completions")
    (folder / name).rename(folder / name.rsplit("/", 1)[0] / "completions-0000000000000000.json")
    code, out, _ = run(capsys, "--dir", folder, "verify")
    assert code == 1
    assert f"replay looks for this request at {name}" in out


def test_verify_warns_of_a_stream_without_end_marker(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    streams = [document(folder / n)["response"] for n in files(folder)]
    name = next(
        n
        for n, response in zip(files(folder), streams, strict=True)
        if response["is_streaming"] and response["body"][-1:] == ["[DONE]"]
    )
    doc = document(folder / name)
    assert doc["response"]["body"].pop() == "[DONE]"
    doc["response"]["event_ms"].pop()
    (folder / name).write_text(json.dumps(doc), "utf-8")
    code, out, _ = run(capsys, "--dir", folder, "verify")
    assert code == 0
    assert f"warning: {folder / name}: the stream has no [DONE] end marker" in out
    assert out.splitlines()[-1] == f"{len(files(folder))} recordings, 0 problems"


# --- import-llama-stack ---------------------------------------------------------------------


def seed_json(path: Path) -> dict[str, Any]:
    """A llama-stack seed's JSON (003 is a page copy: its JSON is extracted first)."""
    text = path.read_text(encoding="utf-8")
    value: dict[str, Any] = json.loads(text if path == SEED_002 else llama_stack_text(path.name))
    return value


def test_import_of_the_llama_stack_seeds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    to = tmp_path / "recordings"
    code, out, _ = run(capsys, "--dir", to, "import-llama-stack", SEED_002, SEED_003)
    assert code == 0
    written = []
    for seed, line in zip([SEED_002, SEED_003], out.splitlines()[:2], strict=True):
        source, _, destination = line.removeprefix("imported ").partition(" -> ")
        assert source == str(seed)
        path = Path(destination)
        recording = loads(path.read_bytes(), destination)
        assert document(path)["version"] == 2 and document(path)["test"] is None
        assert recording.endpoint == CHAT
        request = seed_json(seed)["request"]
        assert recording.key == request_key("POST", CHAT, "", request["body"])
        assert path == to / "_shared" / f"chat_completions-{recording.key[:16]}.json"
        assert recording.events == seed_json(seed)["response"]["body"]
        written.append(path)
    assert run(capsys, "--dir", to, "verify")[0] == 0

    # The openai SDK's own requests find them.
    with sdk(to) as client:
        stream = client.chat.completions.create(
            model="meta-llama/Llama-3.2-1B-Instruct",
            messages=[{"role": "user", "content": "What's the name of the Sun in latin?"}],
            n=2,
            stream=True,
        )
        texts: dict[int, str] = {0: "", 1: ""}
        for chunk in stream:
            texts[chunk.choices[0].index] += chunk.choices[0].delta.content or ""
        assert texts == expected_texts(document(written[0]))
        reply = client.chat.completions.create(
            model="llama3.2:3b-instruct-fp16",
            messages=[{"role": "user", "content": "Hello, world!"}],
            stream=True,
        )
        assert (
            "".join(c.choices[0].delta.content or "" for c in reply)
            == (expected_texts(document(written[1]))[0])
        )


def test_show_gives_each_choice_of_the_imported_n2_seed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    to = tmp_path / "recordings"
    assert run(capsys, "--dir", to, "import-llama-stack", SEED_002)[0] == 0
    texts = expected_texts(seed_json(SEED_002))
    assert sorted(texts) == [0, 1] and texts[0] != texts[1]
    name = files(to)[0]
    code, out, _ = run(capsys, "--dir", to, "show", name)
    assert code == 0
    for index in (0, 1):
        assert f"answer, choice {index} (finish_reason: stop):\n{block(texts[index])}\n" in out
    assert "recorded: time unknown from http://localhost:8000" in out


def test_import_takes_folders_and_imports_a_file_named_twice_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sources = tmp_path / "llama-stack"
    sources.mkdir()
    shutil.copy(SEED_002, sources / "a.json")
    shutil.copy(SEED_002, sources / "b.json")
    to = tmp_path / "elsewhere"
    code, out = run(capsys, "import-llama-stack", sources, sources / "a.json", "--to", to)[:2]
    assert code == 0
    key = loads(SEED_002.read_bytes()).key
    # An OGX recording answers every identical request of its test: a copy is no repeat.
    assert files(to) == [f"_shared/chat_completions-{key[:16]}.json"]
    assert out.splitlines()[:2] == [
        f"imported {sources / 'a.json'} -> {to / files(to)[0]}",
        f"unchanged {sources / 'b.json'} -> {to / files(to)[0]}",
    ]


def llama_stack_file(endpoint: str, body: Any, response: Any, streaming: bool = False) -> str:
    request = {
        "method": "POST",
        "url": f"http://localhost:11434/v1{endpoint}",
        "headers": {},
        "body": body,
        "endpoint": endpoint,
        "model": body.get("model", ""),
    }
    return json.dumps(
        {"request": request, "response": {"body": response, "is_streaming": streaming}}
    )


def test_import_makes_model_lists_and_embeddings_what_the_sdk_asks_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    models = [
        {"__type__": typed_events.MODEL, "__data__": {"id": name, "object": "model", "created": 0,
                                               "owned_by": "library"}}
        for name in ("llama3.2:3b", "all-minilm")
    ]  # fmt: skip
    embedding = {
        "__type__": typed_events.EMBEDDINGS,
        "__data__": {
            "object": "list",
            "model": "all-minilm",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.25, 1.0]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        },
    }
    (tmp_path / "models.json").write_text(llama_stack_file("/v1/models", {}, models), "utf-8")
    (tmp_path / "embed.json").write_text(
        llama_stack_file("/v1/embeddings", {"model": "all-minilm", "input": "hi"}, embedding),
        "utf-8",
    )
    to = tmp_path / "recordings"
    code, _, _ = run(
        capsys, "--dir", to, "import-llama-stack", tmp_path / "models.json", tmp_path / "embed.json"
    )
    assert code == 0
    sent = {"model": "all-minilm", "input": "hi", "encoding_format": "base64"}
    assert files(to) == [
        f"_shared/embeddings-{request_key('POST', '/v1/embeddings', '', sent)[:16]}.json",
        f"_shared/models-{request_key('GET', '/v1/models', '', None)[:16]}.json",
    ]
    assert run(capsys, "--dir", to, "verify")[0] == 0
    with sdk(to) as client:
        # By id, as OGX merges and replays model lists.
        assert [model.id for model in client.models.list()] == ["all-minilm", "llama3.2:3b"]
        vectors = client.embeddings.create(model="all-minilm", input="hi")
        assert vectors.data[0].embedding == [0.5, -0.25, 1.0]


def test_import_reports_what_it_cannot_import(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    exception = {"__type__": "openai.NotFoundError", "__data__": {"message": "no model m"}}
    bad = {
        "malformed.json": '{"request": {"method": "POST",',
        "not-a-recording.json": "[1, 2]",
        "exception.json": llama_stack_file("/v1/chat/completions", chat, exception),
        "tool.json": json.dumps(
            {
                "request": {"provider": "tavily", "tool_name": "web_search", "kwargs": {}},
                "response": {"body": {"content": "x"}, "is_streaming": False},
            }
        ),
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text, "utf-8")
    to = tmp_path / "recordings"
    sources = [tmp_path / name for name in bad]
    code, out, err = run(capsys, "--dir", to, "import-llama-stack", SEED_003, *sources)
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"imported {SEED_003} -> ")
    why = dict(line.removeprefix("skipped ").split(": ", 1) for line in lines[1:5])
    assert list(why) == [str(source) for source in sources]
    assert why[str(tmp_path / "malformed.json")].startswith("not JSON")
    assert "not a llama-stack recording" in why[str(tmp_path / "not-a-recording.json")]
    assert why[str(tmp_path / "exception.json")] == (
        "a recorded exception with no HTTP status (openai.NotFoundError: no model m)"
    )
    assert "tool invocation, not an HTTP exchange" in why[str(tmp_path / "tool.json")]
    assert "(tavily.web_search)" in why[str(tmp_path / "tool.json")]
    assert lines[5].startswith("5 files read: 1 imported") and "4 skipped" in lines[5]
    assert len(files(to)) == 1


def test_import_of_a_missing_source_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--dir", tmp_path, "import-llama-stack", tmp_path / "none")
    assert code == 1 and "no file or folder" in err
    no_traceback(err)


# --- prune ----------------------------------------------------------------------------------


def recordings_by_test(folder: Path) -> dict[str, list[str]]:
    """The recordings of each test, by the test id each file holds."""
    owned: dict[str, list[str]] = {}
    for name in files(folder):
        owned.setdefault(document(folder / name)["test"], []).append(name)
    return owned


def test_prune_refuses_without_a_run(capsys: pytest.CaptureFixture[str], folder: Path) -> None:
    code, _, err = run(capsys, "--dir", folder, "prune", "--yes", "--cache-dir", folder / "none")
    assert code == 1
    assert "run the suite first" in err
    no_traceback(err)
    assert len(files(folder)) == len(files(REAL))


def test_prune_lists_then_deletes_only_unused_recordings(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    everything = files(folder)
    owned = recordings_by_test(folder)
    tests = sorted(owned)
    asked, passed_unasked, failed, gone = tests[0], tests[1], tests[2], tests[3]
    outcomes = {test: "passed" for test in tests if test != gone} | {failed: "failed"}
    used_by = {test: owned[test] for test in tests if test not in (passed_unasked, failed, gone)}
    keep_usage(folder, Usage(True, outcomes, used_by))
    unused = sorted(owned[passed_unasked] + owned[gone])
    assert asked in used_by

    code, out, _ = run(capsys, "--dir", folder, "prune")
    assert code == 0
    assert [line.strip() for line in out.splitlines()[1:-1]] == unused
    assert out.splitlines()[-1] == f"To delete them, run: llm-playback --dir {folder} prune --yes"
    assert files(folder) == everything

    code, out, _ = run(capsys, "--dir", folder, "prune", "--yes")
    assert code == 0
    assert files(folder) == sorted(set(everything) - set(unused))
    assert [f"deleted {name}" for name in unused] == out.splitlines()[: len(unused)]
    assert all(owned[failed][0] in files(folder) for _ in owned[failed])  # a failed test keeps
    assert run(capsys, "--dir", folder, "prune")[1].startswith("nothing to prune")


def test_prune_reads_the_usage_a_0_1_run_kept_under_the_old_cache_key(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    """0.1 kept the usage under ``llm-replay/last-run``: read until 0.3, when the new key
    has none, so that a suite run before the upgrade can still be pruned."""
    owned = recordings_by_test(folder)
    tests = sorted(owned)
    keep_usage(
        folder, Usage(True, dict.fromkeys(tests, "passed"), {t: owned[t] for t in tests[1:]})
    )
    cache = folder.parent / ".pytest_cache"
    old = cache / "v" / "llm-replay" / "last-run"
    old.parent.mkdir(parents=True)
    (cache / CACHE_FILE).rename(old)
    code, out, _ = run(capsys, "--dir", folder, "prune")
    assert code == 0
    assert [line.strip() for line in out.splitlines()[1:-1]] == sorted(owned[tests[0]])


def test_prune_after_a_partial_run_judges_only_the_tests_it_ran(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    owned = recordings_by_test(folder)
    ran = sorted(owned)[0]
    keep_usage(folder, Usage(False, {ran: "passed"}, {}))
    code, out, _ = run(capsys, "--dir", folder, "prune")
    assert code == 0
    assert [line.strip() for line in out.splitlines()[1:-1]] == owned[ran]
    assert "partial" in out


def test_prune_keeps_recordings_written_after_the_run(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    for name in files(folder):
        os.utime(folder / name, (946684800, 946684800))  # 2000-01-01
    keep_usage(folder, Usage(True, finished_at="2010-01-01T00:00:00+00:00"))
    newest = folder / files(folder)[0]
    newest.touch()
    code, out, _ = run(capsys, "--dir", folder, "prune", "--yes")
    assert code == 0
    assert "keeping 1 recording written after the last run" in out
    assert files(folder) == [newest.relative_to(folder).as_posix()]


def test_prune_refuses_the_usage_of_another_folder(
    capsys: pytest.CaptureFixture[str], folder: Path, tmp_path: Path
) -> None:
    keep_usage(folder, Usage(True))
    moved = tmp_path / "other"
    folder.rename(moved)
    code, _, err = run(capsys, "--dir", moved, "prune", "--cache-dir", tmp_path / ".pytest_cache")
    assert code == 1 and f"used the recordings in {folder.resolve()}" in err
