"""What the plugin keeps for a session and for a test, in pytest's stash (``config.stash``,
``item.stash``): its settings, its counts, the outcomes and deselections the report needs, the
random-chunking seed, and each test's player."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from replay.core.stats import Stats
from replay.plugin.settings import Settings

if TYPE_CHECKING:
    from replay.player import Player
    from replay.store.usage import Usage


SETTINGS = pytest.StashKey[Settings]()


STATS = pytest.StashKey[Stats]()


DESELECTED = pytest.StashKey[list[int]]()


OUTCOMES = pytest.StashKey[dict[str, str]]()  # node id -> passed, failed or skipped


# This run's usage, and why it could not be kept in pytest's cache (None: it was).
LAST_RUN: pytest.StashKey[tuple[Usage | None, str | None]] = pytest.StashKey()


SEED = pytest.StashKey[int]()


PLAYER: pytest.StashKey[Player] = pytest.StashKey()
