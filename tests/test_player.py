"""The replay core alone: a ``Player`` deciding, request by request, where the answer comes
from, with no HTTP client, no transport and no pytest plugin in the way.

The recordings are ones a real llama.cpp server produced (``recordings/examples``); the
requests are rebuilt from what they recorded, changed where a test says so.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from replay.core.recording import Recording, loads
from replay.core.redaction import Redaction
from replay.core.request import RequestInfo
from replay.core.stats import Stats
from replay.errors import RecordingFileError, ReplayMiss, SecretInRecording
from replay.player import Live, Player, Record, Rules, Upstream
from replay.store.directory import DirectoryStore
from replay.store.memory import MemoryStore

EXAMPLES = Path(__file__).resolve().parents[1] / "recordings" / "examples" / "test_examples"
JOKE = EXAMPLES / "test_joke" / "chat_completions-bd3faea6f2e70907.json"
CHAT = EXAMPLES / "test_chat_completion" / "chat_completions-4967510ae4ce4c9b.json"
TEST_A = "tests/test_app.py::test_a"
TEST_B = "tests/test_app.py::test_b"


def recorded(path: Path = JOKE, test: str | None = None) -> Recording:
    recording = loads(path.read_bytes(), str(path))
    recording.test = test
    return recording


def request_of(player: Player, recording: Recording, **body: Any) -> RequestInfo:
    """The request ``recording`` answers, its body changed by ``body``, as the transport hands
    it to the player."""
    sent = {**copy.deepcopy(recording.body), **body}
    headers = [("content-type", "application/json"), ("authorization", "Bearer sk-not-kept")]
    return player.request_info(recording.method, recording.url, headers, json.dumps(sent).encode())


# --- routes ------------------------------------------------------------------------------


def test_replay_answers_from_the_recording_of_the_request() -> None:
    recording = recorded()
    player = Player(MemoryStore([recording]), "replay")
    route = player.route(request_of(player, recording))
    assert route is recording
    assert (player.stats.replayed, player.stats.missed) == (1, 0)
    assert player.replayed == [recording]


def test_record_sends_every_request_on_and_numbers_identical_ones() -> None:
    recording = recorded()
    player = Player(MemoryStore([recording]), "record")
    request = request_of(player, recording)
    assert [player.route(request) for _ in range(3)] == [Record(0), Record(1), Record(2)]
    assert player.stats.replayed == 0
    assert player.stats.requested_models == {recording.body["model"]}


def test_live_sends_on_and_counts_but_keeps_nothing() -> None:
    recording = recorded()
    player = Player(MemoryStore([recording]), "live")
    assert player.route(request_of(player, recording)) == Live()
    assert (player.stats.live, player.stats.replayed) == (1, 0)


def test_missing_replays_what_exists_and_records_the_rest() -> None:
    recording = recorded()
    player = Player(MemoryStore([recording]), "missing")
    assert player.route(request_of(player, recording)) is recording
    assert player.route(request_of(player, recording, max_tokens=7)) == Record(0)
    assert player.route(request_of(player, recording)) == Record(1)  # a second, unrecorded one


def test_a_repeat_beyond_the_recorded_ones_misses_unless_repeats_are_allowed() -> None:
    recording = recorded()
    strict = Player(MemoryStore([recording]), "replay")
    request = request_of(strict, recording)
    strict.route(request)
    with pytest.raises(ReplayMiss, match="identical request number 2 in this test and only 1"):
        strict.route(request)
    lenient = Player(MemoryStore([recording]), "replay", rules=Rules(allow_repeats=True))
    assert [lenient.route(request) for _ in range(3)] == [recording] * 3


# --- scopes ------------------------------------------------------------------------------


def test_a_test_replays_its_own_recording_then_the_shared_one_never_another_tests() -> None:
    own, shared, other = recorded(test=TEST_A), recorded(), recorded(CHAT, test=TEST_B)
    player = Player(MemoryStore([own, shared, other]), "replay", test=TEST_A)
    assert player.route(request_of(player, own)) is own
    with pytest.raises(ReplayMiss):
        player.route(request_of(player, other))  # test_b's recording is not test_a's to use
    without_own = Player(MemoryStore([shared, other]), "replay", test=TEST_A)
    assert without_own.route(request_of(without_own, own)) is shared


def test_the_shared_player_sees_only_shared_recordings() -> None:
    store = MemoryStore([recorded(test=TEST_A)])
    player = Player(store, "replay")
    with pytest.raises(ReplayMiss):
        player.route(request_of(player, recorded()))


# --- the miss message --------------------------------------------------------------------


def test_a_miss_names_the_request_its_hash_the_file_the_nearest_recording_and_the_command(
    tmp_path: Path,
) -> None:
    recording = recorded(test=TEST_A)
    store = DirectoryStore(tmp_path)
    store.put(recording, 0)
    player = Player(
        store, "replay", test=TEST_A, rules=Rules(record_hint="pytest --record-mode=missing X")
    )
    request = request_of(player, recording, max_tokens=7)
    with pytest.raises(ReplayMiss) as caught:
        player.route(request)
    message = str(caught.value)
    assert "no recording for POST /v1/chat/completions" in message
    assert f"request hash: {request.key}" in message
    assert str(store.path(TEST_A, request.key, 0, request.endpoint)) in message
    assert "nearest recording" in message and str(store.path(TEST_A, recording.key, 0, "")) != ""
    assert "body.max_tokens" in message  # what differs, recorded -> this request
    assert message.endswith("To record it against the server, run: pytest --record-mode=missing X")
    assert player.stats.missed == 1


def test_a_miss_with_nothing_recorded_says_so() -> None:
    player = Player(MemoryStore(), "replay")
    with pytest.raises(ReplayMiss, match=r"No recording of POST /v1/chat/completions exists yet"):
        player.route(request_of(player, recorded()))


# --- keeping what was recorded -----------------------------------------------------------


def test_save_keeps_the_recording_in_the_tests_scope_and_counts_it(tmp_path: Path) -> None:
    stats = Stats()
    player = Player(DirectoryStore(tmp_path), "record", test=TEST_A, stats=stats)
    recording = recorded()
    path = player.save(recording, 0, [])
    assert Path(path).is_file() and TEST_A.split("::")[1] in path
    assert loads(Path(path).read_bytes(), path).test == TEST_A
    assert (stats.recorded, stats.written, player.used) == (1, [path], [path])
    again = Player(DirectoryStore(tmp_path), "record", test=TEST_A, stats=stats)
    assert again.save(recorded(), 0, ["an object not of its type"]) == path
    assert (stats.recorded, stats.unchanged, len(stats.written)) == (2, 1, 1)  # kept as it was
    assert stats.untyped == [f"{path}: an object not of its type"]


def test_save_refuses_a_recording_that_holds_a_key_and_writes_nothing(tmp_path: Path) -> None:
    player = Player(DirectoryStore(tmp_path), "record", test=TEST_A)
    recording = recorded()
    recording.body = {**recording.body, "user": "sk-proj-" + "A1b2C3d4" * 5}
    with pytest.raises(SecretInRecording, match="llm_replay_redact_body"):
        player.save(recording, 0, [])
    assert list(tmp_path.rglob("*.json")) == []
    assert player.stats.recorded == 0


def test_redaction_rules_reach_the_hash_and_the_recording() -> None:
    rules = Rules(redaction=Redaction(body_fields=("user",)))
    player = Player(MemoryStore(), "record", rules=rules)
    recording = recorded()
    one = request_of(player, recording, user="alice")
    other = request_of(player, recording, user="bob")
    assert one.key == other.key and one.body["user"] == "<redacted>"


def test_ignored_fields_leave_the_hash_but_stay_in_the_request() -> None:
    recording = recorded()
    player = Player(MemoryStore([recording]), "replay", rules=Rules(ignore_fields=("user",)))
    request = request_of(player, recording, user="someone")
    assert request.body["user"] == "someone"
    assert player.route(request) is recording


def test_a_recording_whose_request_was_edited_by_hand_is_refused_on_replay(tmp_path: Path) -> None:
    recording = recorded(test=TEST_A)
    store = DirectoryStore(tmp_path)
    path = Path(store.put(recording, 0).path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["request"]["body"]["messages"][0]["content"] = "edited"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    player = Player(store, "replay", test=TEST_A)
    with pytest.raises(RecordingFileError, match=r"does not match its request.*edited by hand"):
        player.route(request_of(player, recording))


def test_the_upstream_is_what_the_transport_forwards_to() -> None:
    upstream = Upstream(lambda url: url.replace(":1/", ":2/"), served_model="model.gguf")
    player = Player(MemoryStore(), "record", upstream=upstream)
    assert player.upstream.forward_url("http://h:1/v1") == "http://h:2/v1"
    assert player.upstream.served_model == "model.gguf"
    assert Player(MemoryStore(), "record").upstream.forward_url("http://h:1/v1") == "http://h:1/v1"


def test_a_recording_of_the_wrong_type_is_named_only_once_asked() -> None:
    recording = recorded()
    recording.events = [{"__type__": recording.events[0]["__type__"], "__data__": {"id": 1}}]
    player = Player(MemoryStore([recording]), "replay")
    assert player.invalid_recording() is None  # nothing replayed yet
    player.route(request_of(player, recording))
    problem = player.invalid_recording()
    assert problem is not None and str(JOKE) in problem and "response.body[0]" in problem
