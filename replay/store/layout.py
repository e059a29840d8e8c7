"""Where a recording's file goes: the folder of the test that made it, then a name made of
its endpoint and request hash. Pure: paths as strings, no I/O.

    <recordings>/<test file without .py>/<test name>/<endpoint>-<hash16>[-N].json
    <recordings>/_shared/<endpoint>-<hash16>[-N].json      requests made outside a test
    <recordings>/<endpoint>/<hash16>[-N].json              version 1 (read as shared)

``-2``, ``-3`` ... mark the second and third identical request of one test. A test name that
is not a safe file name as it is (a parametrized id with ``/`` or spaces, a very long name)
is made safe and short, and then gets 8 hex digits of the hash of the name, so that two ids
that differ only in what was replaced still have folders of their own (as pytest-recording
does with its cassette names).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from posixpath import join

SHARED = "_shared"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]+")
NAME_LIMIT = 64  # characters of one folder name; longer names are cut and hashed
_V1_NAME = re.compile(r"[0-9a-f]{16}(-[0-9]+)?\.json")


def safe_name(name: str) -> str:
    """``name`` as one folder name: itself when it is safe and short; else its safe characters
    (others as ``_``), cut, and ``-`` plus 8 hex digits of the name's hash."""
    if len(name) <= NAME_LIMIT and not _UNSAFE.search(name) and name.strip(".") == name != "":
        return name
    safe = _UNSAFE.sub("_", name).strip("._")[: NAME_LIMIT - 9] or "test"
    return f"{safe}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


@lru_cache(maxsize=1024)
def scope_folder(test: str | None) -> str:
    """The folder of a test's recordings, from its pytest node id
    (``tests/test_app.py::TestChat::test_joke[2]`` -> ``tests/test_app/TestChat.test_joke[2]``);
    ``_shared`` for requests made outside any test."""
    if test is None:
        return SHARED
    path, _, name = test.partition("::")
    if path.endswith(".py"):
        path = path[:-3]
    parts = [safe_name(part) for part in path.split("/") if part not in ("", ".")]
    return join(*parts, safe_name(name.replace("::", ".") or "module"))


@lru_cache(maxsize=256)
def endpoint_folder(endpoint: str) -> str:
    """An endpoint as version 1 named its folder: ``/v1/chat/completions`` ->
    ``chat_completions``."""
    parts = [part for part in endpoint.strip("/").split("/") if part not in ("", ".", "..")]
    if parts and parts[0].startswith("v") and parts[0][1:].isdigit():
        parts = parts[1:]
    return "_".join(parts) or "root"


@lru_cache(maxsize=256)
def endpoint_name(endpoint: str) -> str:
    """An endpoint in a file name: ``endpoint_folder``, made a safe name."""
    return safe_name(endpoint_folder(endpoint))


def file_name(endpoint: str, key: str, index: int) -> str:
    """``<endpoint>-<first 16 hex of the hash>.json``, then ``-2``, ``-3`` … for repeats."""
    suffix = "" if index == 0 else f"-{index + 1}"
    return f"{endpoint_name(endpoint)}-{key[:16]}{suffix}.json"


def relative_path(test: str | None, endpoint: str, key: str, index: int) -> str:
    """Where the ``index``-th recording of ``key`` made by ``test`` lives in the folder."""
    return f"{scope_folder(test)}/{file_name(endpoint, key, index)}"


def v1_path(endpoint: str, key: str, index: int) -> str:
    """Where format version 1 kept it: ``<endpoint>/<hash16>[-N].json``, read as shared."""
    suffix = "" if index == 0 else f"-{index + 1}"
    return f"{endpoint_folder(endpoint)}/{key[:16]}{suffix}.json"


def is_v1_path(relative: str) -> bool:
    """Whether a path in the folder has the shape of a version-1 file."""
    parts = relative.split("/")
    return len(parts) == 2 and _V1_NAME.fullmatch(parts[1]) is not None


def owner_folder(relative: str) -> str:
    """The scope folder a recording's path is in (``_shared`` for version-1 files)."""
    if is_v1_path(relative):
        return SHARED
    return relative.rpartition("/")[0] or SHARED
