"""The public names are pinned: a change here is a change of the public API."""

import pytest

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
    """What a test reaches through ``llm_replay``: exactly these public members, ``mode``,
    ``base_url`` and ``model`` as values of the handle a test gets."""
    members = {name for name in dir(replay.LLMReplay) if not name.startswith("_")}
    assert members == {
        "mode",
        "openai",
        "async_openai",
        "anthropic",
        "async_anthropic",
        "genai",
        "http_client",
        "async_http_client",
        "transport",
        "async_transport",
        "close",
    }
    player = replay.Player(replay.MemoryStore(), "missing")
    handle = replay.LLMReplay(player, "http://127.0.0.1:1/v1", "smollm2")
    assert (handle.mode, handle.base_url, handle.model) == (
        "missing",
        "http://127.0.0.1:1/v1",
        "smollm2",
    )
    assert {name for name in vars(handle) if not name.startswith("_")} == {"base_url", "model"}


def test_replay_failure_is_gone_with_a_warning_for_one_release() -> None:
    """0.1's name of the base error still answers, as the new one, with a warning that names
    it; it is no longer among the public names."""
    assert "ReplayFailure" not in replay.__all__
    from replay import errors

    for module in (replay, errors):
        with pytest.warns(DeprecationWarning, match=r"ReplayFailure is deprecated.*LLMReplayError"):
            old = module.ReplayFailure
        assert old is replay.LLMReplayError
    with pytest.raises(AttributeError, match="no attribute 'ReplayFailures'"):
        _ = replay.ReplayFailures


def test_every_error_derives_from_the_base_error() -> None:
    """One ``except``/``pytest.raises(LLMReplayError)`` catches whatever the library raises,
    and none of them is an ``Exception`` that the openai SDK would retry and rename."""
    import inspect

    from replay import errors

    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    assert len(classes) >= 6
    for error in classes:
        assert issubclass(error, replay.LLMReplayError), error
        assert not issubclass(error, Exception), error
