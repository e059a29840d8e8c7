"""Settings resolution details that the plugin tests do not reach."""

import pytest

from replay.plugin.settings import normalize_base_url


@pytest.mark.parametrize(
    ("given", "base_url"),
    [
        ("http://gpu-box:8000", "http://gpu-box:8000/v1"),
        ("http://gpu-box:8000/", "http://gpu-box:8000/v1"),
        ("http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1"),
        (
            "https://generativelanguage.googleapis.com/v1beta/openai",
            "https://generativelanguage.googleapis.com/v1beta/openai",
        ),
    ],
)
def test_server_urls_become_base_urls(given: str, base_url: str) -> None:
    assert normalize_base_url(given) == base_url
