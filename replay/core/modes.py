"""The record modes. Kept apart so that the plugin can read its settings without importing
the replay core."""

from typing import Literal

Mode = Literal["replay", "record", "missing", "live"]
MODES: tuple[Mode, ...] = ("replay", "record", "missing", "live")
