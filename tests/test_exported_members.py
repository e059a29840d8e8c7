"""The public names are pinned: a change here is a change of the public API."""

import replay


def test_public_names() -> None:
    assert sorted(replay.__all__) == [
        "CutAfter",
        "DelayFirstByte",
        "DirectoryStore",
        "FailWith",
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
        "http_client",
        "async_http_client",
        "transport",
        "async_transport",
    } <= members | {"base_url", "model"}
