"""Why a file of another recorder cannot become a recording.

Not one of the errors in ``replay.errors``: those reach tests; this one never does. The
importer catches it per file and counts it in its summary.
"""

from __future__ import annotations


class NotImportable(Exception):
    """A file of another recorder that cannot become a recording: ``reason`` says what it is
    (the importer counts files by it), ``detail`` which one; ``lost`` is False when nothing is
    lost by leaving it out (a tool invocation is no exchange with a model server)."""

    def __init__(self, reason: str, detail: str = "", *, lost: bool = True) -> None:
        self.reason = reason
        self.detail = detail
        self.lost = lost
        super().__init__(f"{reason} ({detail})" if detail else reason)
