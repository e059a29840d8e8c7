"""The ``llm_replay`` and ``llm_replay_shared`` fixtures, the ``llm_replay`` marker, and the
auto-started servers they record against: each test gets a ``Player`` of its own
recordings, a handle (``replay.plugin.handle``) and interception of the clients the
application builds itself."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from replay.errors import LLMReplayError
from replay.plugin.settings import REPLAY_BASE_URL, Settings

if TYPE_CHECKING:
    from replay.engines.selection import Engines
    from replay.player import Player
    from replay.plugin.handle import LLMReplay
    from replay.shaping.plan import Shaper
from replay.core.product import RECORD_HINT
from replay.plugin.options import MARKER_OPTIONS
from replay.plugin.state import PLAYER, SEED, SETTINGS, STATS

# The base URL variables common clients read: the openai SDK (OPENAI_BASE_URL), llama-index,
# langchain's older clients and openai 0.x (OPENAI_API_BASE).
BASE_URL_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_BASE")


@pytest.fixture(scope="session")
def _llm_replay_server(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engines | None]:
    """The auto-started llama.cpp servers (replay.engines.selection). llama-cpp-python's is
    started by the first test that uses the fixture in record and live modes, by the first
    request with no recording in missing mode; llama.cpp's native one by the first request to
    an endpoint only it serves (the Anthropic Messages and OpenAI Responses APIs)."""
    settings = pytestconfig.stash[SETTINGS]
    if settings.mode == "replay" or settings.server_url:
        yield None
        return
    from replay.engines.llama_cpp_python import LazyServer
    from replay.engines.native_server import LazyNativeServer
    from replay.engines.selection import Engines

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
                terminal.write(f"pytest-llm-playback: {text}", flush=True)
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
    from replay.plugin.handle import REPLAY_API_KEY, LLMReplay, anthropic_base_url
    from replay.transports.interception import Interception

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
    from replay.plugin.handle import LLMReplay

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
    from replay.engines.llama_cpp_python import DEFAULT_MODEL_ALIAS, model_alias

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
    record_hint: str = RECORD_HINT,
    ignore_fields: tuple[str, ...] = (),
    shaper: Shaper | None = None,
) -> Player:
    """The player of one test's recordings (``test`` None: the shared ones); ``shaper``: how
    its replayed answers are delivered."""
    from replay.player import Player, Rules, Upstream
    from replay.store.directory import DirectoryStore

    settings = config.stash[SETTINGS]
    rules = Rules(
        redaction=settings.redaction,
        ignore_fields=settings.ignore_fields + ignore_fields,
        allow_repeats=allow_repeats,
        record_hint=record_hint,
    )
    upstream = Upstream() if server is None else Upstream(server.forward_url, server.served_model)
    return Player(
        DirectoryStore(settings.recordings_dir),
        settings.mode,
        test=test,
        rules=rules,
        upstream=upstream,
        stats=config.stash[STATS],
        shaper=shaper,
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
    from replay.shaping.plan import Shaping, shaper_of_test

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
    from replay.shaping.plan import seed_of_test

    return seed_of_test(request.config.stash[SEED], request.node.nodeid)


def _record_hint(request: pytest.FixtureRequest) -> str:
    nodeid = request.node.nodeid
    rootdir: Path = request.config.rootpath
    return f"{RECORD_HINT} {shlex.quote(nodeid)}  (from {rootdir})"
