"""The public names are pinned: a change here is a change of the public API."""

import replay


def test_public_names() -> None:
    assert sorted(replay.__all__) == [
        "CutAfter",
        "DelayFirstByte",
        "DirectoryStore",
        "FailWith",
        "HostBlocked",
        "LLMReplay",
        "LLMReplayError",
        "MemoryStore",
        "Player",
        "Recording",
        "RecordingFileError",
        "ReplayFailure",
        "ReplayMiss",
        "SecretInRecording",
        "ServerStartError",
        "Shaping",
        "__version__",
        "dumps",
        "loads",
        "replay_transport",
    ]
    for name in replay.__all__:
        assert hasattr(replay, name), name


def test_fixture_interface() -> None:
    members = {name for name in dir(replay.LLMReplay) if not name.startswith("_")}
    assert {
        "mode",
        "base_url",
        "model",
        "openai",
        "async_openai",
        "anthropic",
        "async_anthropic",
        "genai",
        "http_client",
        "async_http_client",
        "transport",
        "async_transport",
    } <= members | {"base_url", "model"}


def test_every_error_derives_from_the_base_error() -> None:
    """One ``except``/``pytest.raises(LLMReplayError)`` catches whatever the library raises,
    and none of them is an ``Exception`` that the openai SDK would retry and rename."""
    import inspect

    from replay import errors

    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)]
    assert len(classes) >= 6
    for error in classes:
        assert issubclass(error, replay.LLMReplayError), error
        assert not issubclass(error, Exception), error
