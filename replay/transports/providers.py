"""The hosted LLM providers whose requests never leave the machine while a test records or
replays, and how each one's API path maps onto an OpenAI-compatible base URL. Pure.

A request to one of these hosts is redirected to the test's LLM server (the local one, the
one given with ``--llm-server-url``, or in replay mode the placeholder that only replays), so
an application whose client was built with the SDK's default host is replayed too: the host is
not part of the request hash, the path after the provider's API prefix is.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# host (a regular expression matched in full), and the path prefix of its OpenAI-style API that
# stands for the base URL's "/v1". A path outside the prefix keeps its full path after the
# base URL: Gemini's native /v1beta/models/... becomes /v1/v1beta/models/..., whose endpoint is
# /v1beta/models/... (keys.normalize_endpoint), as a client pointed at the server sends it.
PROVIDERS: tuple[tuple[str, str], ...] = (
    (r"api\.openai\.com", "/v1"),
    (r"[\w-]+\.openai\.azure\.com", r"/openai/deployments/[^/]+|/openai/v1|/openai"),
    (r"[\w-]+\.cognitiveservices\.azure\.com", r"/openai/deployments/[^/]+|/openai/v1|/openai"),
    (r"api\.anthropic\.com", "/v1"),
    (r"generativelanguage\.googleapis\.com", r"/v1beta/openai|/v1/openai"),
    (r"api\.mistral\.ai", "/v1"),
    (r"api\.groq\.com", "/openai/v1"),
    (r"api\.together\.xyz", "/v1"),
    (r"api\.together\.ai", "/v1"),
    (r"openrouter\.ai", "/api/v1"),
    (r"api\.deepseek\.com", "/v1|"),
    (r"api\.fireworks\.ai", "/inference/v1"),
    (r"api\.x\.ai", "/v1"),
    (r"api\.perplexity\.ai", "/v1|"),
    (r"api\.cohere\.(?:com|ai)", "/compatibility/v1|/v2|/v1"),
    (r"api\.deepinfra\.com", "/v1/openai"),
    (r"api\.cerebras\.ai", "/v1"),
)
_COMPILED = tuple(
    (re.compile(host, re.IGNORECASE), re.compile(rf"(?:{prefix})(?=/|$)"))
    for host, prefix in PROVIDERS
)


# Every provider URL, for routers that match URLs by regular expression (respx).
URL_PATTERN = r"^https?://(?:" + "|".join(host for host, _ in PROVIDERS) + r")(?::\d+)?(?:[/?#]|$)"


def provider_prefix(url: str) -> re.Pattern[str] | None:
    """The API prefix pattern of ``url``'s host, if it is a known provider's."""
    host = urlsplit(url).hostname or ""
    for pattern, prefix in _COMPILED:
        if pattern.fullmatch(host):
            return prefix
    return None


def is_provider(url: str) -> bool:
    """Whether ``url`` goes to a known hosted LLM provider."""
    return provider_prefix(url) is not None


def redirected(url: str, base_url: str) -> str:
    """``url`` of a provider moved under ``base_url`` (which ends in its API version, as
    ``http://127.0.0.1:8080/v1``): ``https://api.openai.com/v1/chat/completions?x=1`` becomes
    ``http://127.0.0.1:8080/v1/chat/completions?x=1``."""
    parts = urlsplit(url)
    prefix = provider_prefix(url)
    path = parts.path
    if prefix is not None and (found := prefix.match(path)) is not None:
        path = path[found.end() :]
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url.rstrip('/')}{path}{query}"
