"""json_diff: the lines a miss message shows between a recorded request body and a new one."""

from __future__ import annotations

from typing import Any

import pytest

from replay.core.json_diff import json_diff


def test_equal_values_give_no_lines() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": None}
    assert json_diff(body, {**body}) == []
    assert json_diff(body, body, "body") == []
    assert json_diff([], []) == []
    assert json_diff("text", "text") == []
    assert json_diff(None, None) == []


def test_an_added_key() -> None:
    assert json_diff({"a": 1}, {"a": 1, "b": 2}) == ["+ b: 2"]


def test_a_removed_key() -> None:
    assert json_diff({"a": 1, "b": "x"}, {"a": 1}) == ["- b: 'x'"]


def test_a_changed_key() -> None:
    assert json_diff({"temperature": 0.2}, {"temperature": 0.7}) == ["~ temperature: 0.2 -> 0.7"]


def test_a_key_set_to_null_is_a_change_not_a_removal() -> None:
    assert json_diff({"stop": None}, {}) == ["- stop: None"]
    assert json_diff({"stop": None}, {"stop": "\n"}) == ["~ stop: None -> '\\n'"]


def test_nested_keys_have_dotted_paths_under_the_given_root() -> None:
    old = {"stream_options": {"include_usage": True}, "model": "m"}
    new = {"stream_options": {"include_usage": False, "extra": 1}, "model": "m"}
    assert json_diff(old, new, "body") == [
        "+ body.stream_options.extra: 1",
        "~ body.stream_options.include_usage: True -> False",
    ]


def test_without_a_root_paths_start_at_the_key() -> None:
    assert json_diff({"a": {"b": {"c": 1}}}, {"a": {"b": {"c": 2}}}) == ["~ a.b.c: 1 -> 2"]


def test_a_whole_nested_object_added_or_removed_is_one_line() -> None:
    assert json_diff({"a": {}}, {"a": {"b": {"c": 1}}}) == ["+ a.b: {'c': 1}"]
    assert json_diff({"a": {"b": {"c": 1}}}, {"a": {}}) == ["- a.b: {'c': 1}"]


def test_list_elements_have_index_paths() -> None:
    system = {"role": "system", "content": "be brief"}
    old = {"messages": [system, {"role": "user", "content": "hi"}]}
    new = {"messages": [system, {"role": "user", "content": "ho"}]}
    assert json_diff(old, new, "body") == ["~ body.messages[1].content: 'hi' -> 'ho'"]


def test_index_paths_of_lists_in_lists_and_at_the_top() -> None:
    assert json_diff([[1, 2], [3]], [[1, 2], [4]]) == ["~ [1][0]: 3 -> 4"]
    assert json_diff({"m": [[0, {"k": 1}]]}, {"m": [[0, {"k": 2}]]}) == ["~ m[0][1].k: 1 -> 2"]


@pytest.mark.parametrize(
    ("old", "new"),
    [([1, 2], [1, 2, 3]), ([1, 2, 3], [1, 2]), ([], [{"role": "user"}]), ([{"a": 1}], [])],
    ids=["longer", "shorter", "from-empty", "to-empty"],
)
def test_lists_of_different_length_are_one_change_of_the_whole_list(
    old: list[Any], new: list[Any]
) -> None:
    assert json_diff({"stop": old}, {"stop": new}, "body") == [f"~ body.stop: {old!r} -> {new!r}"]


def test_a_change_of_kind_is_one_change() -> None:
    assert json_diff({"a": {"b": 1}}, {"a": [1]}) == ["~ a: {'b': 1} -> [1]"]
    assert json_diff({"a": [1]}, {"a": "1"}) == ["~ a: [1] -> '1'"]


def test_whole_bodies_that_differ_are_named_so() -> None:
    assert json_diff("old text", "new text") == ["~ (whole body): 'old text' -> 'new text'"]
    assert json_diff({"a": 1}, [1]) == ["~ (whole body): {'a': 1} -> [1]"]
    assert json_diff(None, {"a": 1}) == ["~ (whole body): None -> {'a': 1}"]


@pytest.mark.parametrize(
    ("old", "new"),
    [(0, False), (1, True), (False, 0), ("1", 1), (None, False), ("", None)],
)
def test_equal_comparing_values_of_another_type_are_a_change(old: Any, new: Any) -> None:
    assert json_diff({"x": old}, {"x": new}) == [f"~ x: {old!r} -> {new!r}"]
    assert json_diff([old], [new]) == [f"~ [0]: {old!r} -> {new!r}"]


def test_lines_come_in_key_order() -> None:
    old = {"b": 1, "d": 1, "a": 1}
    new = {"c": 1, "a": 2, "d": 1}
    assert json_diff(old, new) == ["~ a: 1 -> 2", "- b: 1", "+ c: 1"]


def test_long_values_are_cut_to_80_characters_with_dots() -> None:
    long = "x" * 200
    [line] = json_diff({}, {"prompt": long})
    assert line == "+ prompt: " + repr(long)[:77] + "..."
    assert len(line.removeprefix("+ prompt: ")) == 80


def test_both_sides_of_a_change_are_cut() -> None:
    old, new = "a" * 100, "b" * 100
    [line] = json_diff({"p": old}, {"p": new})
    assert line == f"~ p: {repr(old)[:77]}... -> {repr(new)[:77]}..."


def test_a_long_nested_value_is_cut() -> None:
    value = {"messages": [{"role": "user", "content": "word " * 40}]}
    [line] = json_diff({}, {"body": value})
    assert line.startswith("+ body: {'messages': [{'role': 'user', 'content': 'word word")
    assert line.endswith("...")
    assert len(line) == len("+ body: ") + 80


def test_a_value_of_exactly_80_characters_is_kept_whole() -> None:
    value = "y" * 78  # its repr is 80 characters
    assert json_diff({}, {"k": value}) == [f"+ k: {value!r}"]
    longer = "y" * 79
    assert json_diff({}, {"k": longer}) == [f"+ k: {repr(longer)[:77]}..."]


def test_unicode_is_shown_as_it_is() -> None:
    assert json_diff({"c": "grüße"}, {"c": "世界"}) == ["~ c: 'grüße' -> '世界'"]
