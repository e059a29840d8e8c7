"""replay.shaping.plan: which request each fault acts on, and when each piece of a body is due."""

from __future__ import annotations

import pytest

from replay.errors import LLMReplayError
from replay.shaping.chunking import Chunking
from replay.shaping.faults import CutAfter, DelayFirstByte, FailWith
from replay.shaping.plan import Head, Shaper, Shaping, pace_factor, seed_of_test

CHAT = "/v1/chat/completions"
EVENTS = [b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n", b"data: [DONE]\n\n"]
TIMES = [100.0, 150.0, 200.0, 210.0]


def test_a_status_fault_answers_the_first_n_requests_then_lets_them_through() -> None:
    notes: list[str] = []
    shaper = Shaper(Shaping.of(faults=[{"status": 429, "times": 2}]), on_event=notes.append)
    heads = [shaper.head("POST", CHAT) for _ in range(3)]
    assert heads == [Head(0.0, FailWith(429, times=2))] * 2 + [Head()]
    assert notes == ["HTTP 429 on POST /v1/chat/completions"] * 2


def test_a_fault_for_an_endpoint_leaves_other_endpoints_alone() -> None:
    shaper = Shaper(Shaping.of(faults=[FailWith(500, endpoint="/v1/embeddings")]))
    assert shaper.head("POST", CHAT) == Head()
    assert shaper.head("POST", "/v1/embeddings").failure == FailWith(500, endpoint="/v1/embeddings")
    assert shaper.head("POST", "/v1/embeddings") == Head()


def test_a_delay_and_a_status_can_act_on_the_same_request() -> None:
    shaper = Shaper(Shaping(faults=(DelayFirstByte(1.5), FailWith(503))))
    assert shaper.head("POST", CHAT) == Head(1.5, FailWith(503))
    assert shaper.head("POST", CHAT) == Head()


def test_a_cut_keeps_the_first_k_events_and_is_used_up_by_a_body_only() -> None:
    shaper = Shaper(Shaping(faults=(FailWith(429), CutAfter(3))))
    assert shaper.head("POST", CHAT).failure == FailWith(429)  # the cut waits for a body
    cut = shaper.body(EVENTS, TIMES, "POST", CHAT)
    assert [data for _, data in cut.pieces] == EVENTS[:3] and cut.cut
    whole = shaper.body(EVENTS, TIMES, "POST", CHAT)
    assert [data for _, data in whole.pieces] == EVENTS and not whole.cut


def test_a_cut_after_the_last_event_is_no_cut() -> None:
    shaper = Shaper(Shaping(faults=(CutAfter(4),)))
    assert not shaper.body(EVENTS, TIMES, "POST", CHAT).cut


def test_pace_scales_the_recorded_times() -> None:
    delivery = Shaper(Shaping(pace=0.5)).body(EVENTS, TIMES, "POST", CHAT)
    assert [due for due, _ in delivery.pieces] == [0.05, 0.075, 0.1, 0.105]


def test_pace_with_merged_chunking_sends_everything_at_the_last_time() -> None:
    shaping = Shaping(pace=1.0, chunking=Chunking.parse("merged"))
    delivery = Shaper(shaping).body(EVENTS, TIMES, "POST", CHAT)
    assert delivery.pieces == [(0.21, b"".join(EVENTS))]


def test_without_times_pace_sends_at_once() -> None:
    delivery = Shaper(Shaping(pace=1.0)).body(EVENTS, None, "POST", CHAT)
    assert [due for due, _ in delivery.pieces] == [0.0] * 4


def test_the_default_shaping_is_recognised() -> None:
    assert Shaping().is_default and Shaping.of(0, "event", []).is_default
    assert not Shaping(pace=1).is_default and not Shaping.of(chunking="merged").is_default


@pytest.mark.parametrize("value", [-1, "fast", float("nan"), True, None])
def test_a_bad_pace_is_a_clear_error(value: object) -> None:
    with pytest.raises(LLMReplayError, match=r"pytest-llm-playback: pace .* is not a number >= 0"):
        pace_factor(value)


def test_faults_must_be_a_list() -> None:
    with pytest.raises(LLMReplayError, match="faults takes a list of faults"):
        Shaping.of(faults={"status": 429})


def test_test_seeds_depend_on_the_session_seed_and_the_test() -> None:
    assert seed_of_test(1, "t::a") == seed_of_test(1, "t::a")
    assert len({seed_of_test(1, "t::a"), seed_of_test(2, "t::a"), seed_of_test(1, "t::b")}) == 3
