"""Where a recording's file goes: its test's folder, then endpoint and hash."""

from __future__ import annotations

import pytest

from replay.store.layout import (
    NAME_LIMIT,
    SHARED,
    endpoint_folder,
    file_name,
    is_v1_path,
    owner_folder,
    relative_path,
    safe_name,
    scope_folder,
    v1_path,
)

KEY = "0123456789abcdef" + "f" * 48


def test_file_name_is_endpoint_and_hash_prefix_then_the_repeat() -> None:
    assert file_name("/v1/chat/completions", KEY, 0) == "chat_completions-0123456789abcdef.json"
    assert file_name("/v1/chat/completions", KEY, 1) == "chat_completions-0123456789abcdef-2.json"
    assert file_name("/v1/models", KEY, 2) == "models-0123456789abcdef-3.json"


@pytest.mark.parametrize(
    ("test", "folder"),
    [
        ("tests/test_app.py::test_joke", "tests/test_app/test_joke"),
        ("test_app.py::test_joke", "test_app/test_joke"),
        ("tests/test_app.py::TestChat::test_joke", "tests/test_app/TestChat.test_joke"),
        ("tests/test_app.py::test_joke[2-short]", "tests/test_app/test_joke[2-short]"),
        (None, SHARED),
    ],
)
def test_scope_folder_shows_the_test_file_and_name(test: str | None, folder: str) -> None:
    assert scope_folder(test) == folder


def test_unsafe_ids_become_safe_stable_and_distinct() -> None:
    slash = scope_folder("t.py::test_x[a/b c]")
    underscore = scope_folder("t.py::test_x[a_b_c]")
    name = slash.split("/")[-1]
    assert "/" not in name and " " not in name
    assert name.startswith("test_x[a_b_c]-")
    assert slash != underscore  # the hash of the original keeps them apart
    assert scope_folder("t.py::test_x[a/b c]") == slash  # stable


def test_very_long_names_are_cut_and_hashed() -> None:
    long_id = "x" * 300
    one, other = safe_name(long_id), safe_name(long_id + "y")
    assert len(one) <= NAME_LIMIT and len(other) <= NAME_LIMIT
    assert one != other


@pytest.mark.parametrize("name", ["..", ".", "", ".hidden"])
def test_names_that_are_not_plain_folders_are_made_safe(name: str) -> None:
    assert safe_name(name) not in ("..", ".", "") and not safe_name(name).startswith(".")


def test_version_1_paths_are_recognised_as_shared() -> None:
    old = v1_path("/v1/chat/completions", KEY, 1)
    assert old == "chat_completions/0123456789abcdef-2.json"
    assert is_v1_path(old) and owner_folder(old) == SHARED
    new = relative_path("tests/test_app.py::test_a", "/v1/chat/completions", KEY, 0)
    assert not is_v1_path(new)
    assert owner_folder(new) == "tests/test_app/test_a"
    assert owner_folder(relative_path(None, "/v1/models", KEY, 0)) == SHARED
    assert endpoint_folder("/v1/embeddings") == "embeddings"
