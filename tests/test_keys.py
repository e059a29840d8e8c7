"""The request hash: which requests count as the same one for replay."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.core import jsonfast
from replay.core.hashing import canonical_json, normalize_endpoint, parse_body, request_key

# Request bodies: floats integral or not (0.0 and 0 must hash alike), big integers, text.
JSON_BODIES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from([0.0, 2.0, -0.0, 1e16, 1e-05, 0.7])
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)

CHAT = "/v1/chat/completions"
BODY = {
    "model": "smollm2",
    "messages": [{"role": "user", "content": "tell me a joke"}],
    "temperature": 0,
    "stream": True,
}


# --- normalize_endpoint ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8080/v1/chat/completions", CHAT),
        ("https://api.example.com/v1/chat/completions", CHAT),
        ("http://localhost:8000/v1/chat/completions?stream=1&x=2", CHAT),
        (CHAT, CHAT),
        ("/v1/chat/completions?api-version=2", CHAT),
        ("http://localhost:8000/v1/v1/chat/completions", CHAT),
        ("/v1/v1/chat/completions", CHAT),
        ("/v1/v1/v1/chat/completions", CHAT),
        ("/v1/embeddings", "/v1/embeddings"),
        ("/v1/models", "/v1/models"),
        ("/v1/models/", "/v1/models/"),  # a trailing slash is part of the path: kept
        ("/v1/chat//completions", CHAT),
        ("http://localhost:8080", "/"),
        ("http://localhost:8080/", "/"),
    ],
)
def test_normalize_endpoint(url: str, expected: str) -> None:
    assert normalize_endpoint(url) == expected


def test_normalize_endpoint_keeps_the_path_after_the_version() -> None:
    assert normalize_endpoint("http://h:1/v1/v1/models/smollm2") == "/v1/models/smollm2"
    assert normalize_endpoint("/api/v1/chat/completions") == "/api/v1/chat/completions"


def test_normalize_endpoint_only_collapses_identical_versions() -> None:
    # /v1/v10 is not a doubled /v1: the regex must stop at a path segment boundary.
    assert normalize_endpoint("/v1/v10/chat") == "/v1/v10/chat"
    assert normalize_endpoint("/v1/v2/chat") == "/v1/v2/chat"
    assert normalize_endpoint("/v2/v2/chat") == "/v2/chat"


def test_normalize_endpoint_drops_a_base_urls_version_before_a_prerelease_one() -> None:
    # google-genai pointed at a base URL ending in /v1 sends /v1/v1beta/models/...
    gemini = "/v1beta/models/gemini-2.0-flash:generateContent"
    assert normalize_endpoint("http://h:1/v1" + gemini) == gemini
    assert normalize_endpoint("/v1/v1alpha/x") == "/v1alpha/x"
    assert normalize_endpoint("/v1/v1beta1/x") == "/v1beta1/x"
    assert normalize_endpoint("/v1/v1betamax/x") == "/v1/v1betamax/x"  # not a version
    assert normalize_endpoint("/v1/v2/chat") == "/v1/v2/chat"  # two released versions: kept


def test_normalize_endpoint_collapses_a_leading_double_slash() -> None:
    # The same URL with a doubled slash after the host keeps /v1 ...
    assert normalize_endpoint("http://h:8080//v1/chat/completions") == CHAT
    # ... but request_info() hands normalize_endpoint the *path* of that URL.
    assert normalize_endpoint("//v1/chat/completions") == CHAT


# --- request_key -------------------------------------------------------------------------


def key(method: str = "POST", endpoint: str = CHAT, query: str = "", body: object = None) -> str:
    return request_key(method, endpoint, query, BODY if body is None else body)


def test_key_is_64_lowercase_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", key())


def test_key_is_sha256_of_the_canonical_request() -> None:
    query = "b=2&a=1&a=0"
    expected_document = {
        "method": "POST",
        "endpoint": CHAT,
        "query": [["a", "0"], ["a", "1"], ["b", "2"]],
        "body": BODY,
    }
    text = json.dumps(expected_document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert request_key("POST", "http://h:9/v1/v1/chat/completions", query, BODY) == expected


def test_key_of_a_unicode_body_hashes_the_utf8_text() -> None:
    body = {"prompt": "Grüße, 世界 🌍"}
    document = {"body": body, "endpoint": "/v1/completions", "method": "POST", "query": []}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "世界" in text
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert request_key("POST", "/v1/completions", "", body) == expected


def test_key_is_the_same_in_another_process_whatever_the_key_order() -> None:
    """A recording made on one machine is found on another: the hash depends on neither the
    process's hash seed (set and dict order) nor the order the client wrote the keys in."""
    import subprocess
    import sys

    shuffled = dict(reversed(list(BODY.items())))
    program = (
        "import json, sys; from replay.core.hashing import request_key; "
        "print(request_key('POST', sys.argv[1], '', json.loads(sys.argv[2])))"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", program, CHAT, json.dumps(body)],
            capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed, body in (("1", BODY), ("2", shuffled), ("3", BODY))
    }  # fmt: skip
    assert keys == {request_key("POST", CHAT, "", BODY)}


def test_key_ignores_scheme_host_and_port() -> None:
    keys = {
        key(endpoint="http://127.0.0.1:8080/v1/chat/completions"),
        key(endpoint="https://llm.internal:443/v1/chat/completions"),
        key(endpoint="http://localhost/v1/chat/completions"),
        key(endpoint=CHAT),
    }
    assert len(keys) == 1


def test_key_treats_a_doubled_version_as_the_same_endpoint() -> None:
    assert key(endpoint="/v1/v1/chat/completions") == key(endpoint=CHAT)


def test_key_ignores_dict_key_order() -> None:
    reordered = {
        "stream": True,
        "temperature": 0,
        "messages": [{"content": "tell me a joke", "role": "user"}],
        "model": "smollm2",
    }
    assert list(reordered) != list(BODY)
    assert key(body=reordered) == key(body=BODY)


def test_key_treats_integral_floats_as_ints() -> None:
    assert key(body={**BODY, "temperature": 0.0}) == key(body={**BODY, "temperature": 0})
    assert key(body={"n": [1.0, 2.0]}) == key(body={"n": [1, 2]})
    assert key(body={"a": {"b": 3.0}}) == key(body={"a": {"b": 3}})


def test_key_keeps_non_integral_floats_apart() -> None:
    assert key(body={**BODY, "temperature": 0.5}) != key(body={**BODY, "temperature": 0})
    assert key(body={**BODY, "temperature": 0.5}) != key(body={**BODY, "temperature": 0.25})


def test_key_does_not_confuse_bools_with_numbers() -> None:
    assert key(body={"stream": True}) != key(body={"stream": 1})
    assert key(body={"stream": False}) != key(body={"stream": 0})


@pytest.mark.parametrize(
    "changed",
    [
        {**BODY, "model": "other"},
        {**BODY, "temperature": 1},
        {**BODY, "stream": False},
        {**BODY, "messages": [{"role": "user", "content": "tell me a joke!"}]},
        {**BODY, "messages": [{"role": "system", "content": "tell me a joke"}]},
        {**BODY, "seed": 42},
        {k: v for k, v in BODY.items() if k != "temperature"},
    ],
)
def test_key_changes_with_the_body(changed: dict[str, object]) -> None:
    assert key(body=changed) != key(body=BODY)


def test_key_distinguishes_list_order_in_the_body() -> None:
    first = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}
    second = {"messages": [{"role": "user", "content": "b"}, {"role": "user", "content": "a"}]}
    assert key(body=first) != key(body=second)


def test_key_changes_with_the_method() -> None:
    assert key(method="GET") != key(method="POST")


def test_key_method_is_case_insensitive() -> None:
    assert key(method="post") == key(method="POST")


def test_key_changes_with_the_endpoint() -> None:
    assert key(endpoint="/v1/completions") != key(endpoint=CHAT)
    assert key(endpoint="/v2/chat/completions") != key(endpoint=CHAT)


def test_key_changes_with_the_query() -> None:
    assert key(query="a=1") != key(query="")
    assert key(query="a=1") != key(query="a=2")
    assert key(query="a=1") != key(query="b=1")
    # a blank value is still a parameter
    assert key(query="a=") != key(query="")


def test_key_ignores_query_order() -> None:
    assert key(query="a=1&b=2") == key(query="b=2&a=1")
    assert key(query="x=1&y=2&z=3") == key(query="z=3&x=1&y=2")


def test_key_reads_the_query_percent_decoded() -> None:
    assert key(query="q=a%20b") == key(query="q=a+b")


def test_key_does_not_take_the_query_from_the_endpoint() -> None:
    # The query is its own argument: one left in the endpoint URL does not count.
    assert key(endpoint=CHAT + "?a=1") == key(endpoint=CHAT)


def test_key_of_bodies_that_are_not_objects() -> None:
    assert request_key("GET", "/v1/models", "", None) != request_key("GET", "/v1/models", "", "")
    assert request_key("POST", CHAT, "", "text") != request_key("POST", CHAT, "", "other")


# --- canonical_json ----------------------------------------------------------------------


def test_canonical_json_sorts_keys_at_every_level() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'


def test_canonical_json_is_compact() -> None:
    text = canonical_json({"a": [1, 2, {"b": None}], "c": "x y"})
    assert text == '{"a":[1,2,{"b":null}],"c":"x y"}'


def test_canonical_json_keeps_unicode() -> None:
    text = canonical_json({"t": "héllo 世界 🌍"})
    assert text == '{"t":"héllo 世界 🌍"}'
    assert "\\u" not in text


def test_canonical_json_writes_integral_floats_as_ints() -> None:
    assert canonical_json({"a": 0.0, "b": 2.0, "c": 2.5, "d": -0.0}) == (
        '{"a":0,"b":2,"c":2.5,"d":0}'
    )
    assert canonical_json(0.0) == canonical_json(0) == "0"


def test_canonical_json_leaves_bools_alone() -> None:
    assert canonical_json([True, False, 1, 0]) == "[true,false,1,0]"


def test_canonical_json_does_not_mutate_its_input() -> None:
    value = {"b": [1.0], "a": 2.0}
    canonical_json(value)
    assert value == {"b": [1.0], "a": 2.0}
    assert isinstance(value["a"], float)


# --- parse_body --------------------------------------------------------------------------


def test_parse_body() -> None:
    assert parse_body(b"") == (None, jsonfast.FAST)
    assert parse_body(b'{"a": 1}') == ({"a": 1}, jsonfast.FAST)
    assert parse_body('{"t": "é"}'.encode()) == ({"t": "é"}, jsonfast.FAST)
    assert parse_body(b"not json") == ("not json", jsonfast.EXACT)
    assert parse_body(b'{"a": NaN}')[1] is jsonfast.EXACT


@settings(max_examples=300, deadline=None)
@given(body=JSON_BODIES)
def test_the_hash_of_a_plain_body_is_the_hash_of_the_body(body: object) -> None:
    """The quick way to hash a body that jsonfast read as plain JSON gives the same hash as
    the canonical way: integral floats, other floats and all."""
    parsed, writer = parse_body(json.dumps(body).encode())
    fast = request_key("POST", CHAT, "a=1", parsed, writer)
    assert fast == request_key("POST", CHAT, "a=1", parsed)
