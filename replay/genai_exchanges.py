"""google-genai calls recorded by OGX, as the HTTP exchanges the google-genai SDK makes.
(Placeholder until the rebuild of the SDK's wire format lands.)"""

from __future__ import annotations

from typing import Any

from replay.not_importable import NotImportable
from replay.recording import Recording


def genai_recording(request: dict[str, Any], response: dict[str, Any], source: str) -> Recording:
    """The HTTP exchange of an OGX google-genai recording."""
    raise NotImportable("a google-genai call", f"{request.get('url')}: not rebuilt yet")
