"""The documentation checked against the code: the quickstart's test replays offline from the
committed recordings, the configuration page names every option, ini setting, marker option,
fixture member and ``llm-playback`` command, and every test the docs cite exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from replay.cli.command_line import main as llm_replay_main
from replay.core.recording import loads
from replay.player import Player
from replay.plugin.handle import LLMReplay
from replay.plugin.hooks import MARKER_OPTIONS
from replay.plugin.settings import MODE_ENV
from replay.store.directory import DirectoryStore
from replay.store.memory import MemoryStore
from tests.conftest import BLOCK_NETWORK

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXAMPLE_JOKE = "examples/test_examples/test_joke/chat_completions-bd3faea6f2e70907.json"
CONFIGURATION = DOCS / "configuration.md"
QUICKSTART_TITLE = 'title="tests/test_joke.py"'
# A test cited as tests/<file>.py::<name> (or examples/...), a parametrize id allowed after it.
CITED = re.compile(r"\b((?:tests|examples)/[\w/]+\.py)::(\w+)")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The fenced code blocks of a Markdown text: (info string, code without the indent)."""
    blocks: list[tuple[str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        indent, fence = opening["indent"], opening["fence"]
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index].removeprefix(indent))
            index += 1
        index += 1  # the closing fence
        blocks.append((opening["info"].strip(), "\n".join(body) + "\n"))
    return blocks


def prose(text: str) -> str:
    """A Markdown text without its fenced code blocks (examples of the user's own tests)."""
    kept: list[str] = []
    fence = ""
    for line in text.splitlines():
        opening = FENCE.match(line)
        if fence:
            fence = "" if line.strip() == fence else fence
        elif opening is not None:
            fence = opening["fence"]
        else:
            kept.append(line)
    return "\n".join(kept)


def mentioned(name: str, text: str) -> bool:
    """Whether ``name`` appears in ``text`` as code: in backticks, not as part of a longer
    name (``--record`` is not mentioned by ``--record-mode``)."""
    return re.search(rf"`{re.escape(name)}(?![\w-])", text) is not None


def quickstart_test() -> str:
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    [code] = [code for info, code in fenced_blocks(text) if QUICKSTART_TITLE in info]
    return code


# --- the quickstart runs --------------------------------------------------------------------


def run_quickstart(pytester: pytest.Pytester, recordings: Path | None) -> pytest.RunResult:
    """The quickstart's test file in a fresh project, replayed with every socket connect
    failing, from a copy of ``recordings`` (or from no recordings)."""
    pytester.makepyfile(blocknet=BLOCK_NETWORK)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    (pytester.mkdir("tests") / "test_joke.py").write_text(quickstart_test(), encoding="utf-8")
    if recordings is not None:  # the example suite's joke, placed in the quickstart test's folder
        joke = loads((recordings / EXAMPLE_JOKE).read_bytes())
        joke.test = "tests/test_joke.py::test_joke"
        DirectoryStore(pytester.path / "recordings").put(joke, 0)
    return pytester.runpytest_subprocess(
        "-p", "blocknet", "-p", "no:cacheprovider", "--record-mode", "replay"
    )


def test_quickstart_test_replays_offline(pytester: pytest.Pytester) -> None:
    result = run_quickstart(pytester, REPO / "recordings")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 replayed, 0 recorded, 0 missed*"])


def test_quickstart_test_misses_without_the_recordings(pytester: pytest.Pytester) -> None:
    """The control: the quickstart's test passes because of the recordings."""
    result = run_quickstart(pytester, None)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ReplayMiss: pytest-llm-playback: no recording for POST*"])


def test_the_quickstart_test_is_the_example_suites_joke_request() -> None:
    """The quickstart's request is one the example suite records, so recordings/ holds it."""
    code = quickstart_test()
    examples = (REPO / "examples" / "test_examples.py").read_text(encoding="utf-8")
    for part in ('"Tell me a joke"', "stream=True", "temperature=0", "max_tokens=32"):
        assert part in code and part in examples, part
    assert loads((REPO / "recordings" / EXAMPLE_JOKE).read_bytes()).test == (
        "examples/test_examples.py::test_joke"
    )


# --- the configuration page is complete ----------------------------------------------------


def help_section(output: str, anchor: str) -> list[str]:
    """The lines of the ``pytest --help`` option group that holds ``anchor``."""
    lines = output.splitlines()
    [at] = [index for index, line in enumerate(lines) if line.lstrip().startswith(anchor)]
    start = at
    while lines[start - 1].strip():
        start -= 1
    end = at
    while end < len(lines) and lines[end].strip():
        end += 1
    return lines[start:end]


def test_every_command_line_option_is_documented(pytester: pytest.Pytester) -> None:
    output = pytester.runpytest("--help").stdout.str()
    section = help_section(output, "--llm-server-url")
    options = [match[1] for line in section if (match := re.match(r"\s+(--[\w-]+)", line))]
    assert {"--record", "--record-mode", "--llm-server-url"} <= set(options), section
    page = CONFIGURATION.read_text(encoding="utf-8")
    missing = [option for option in options if not mentioned(option, page)]
    assert missing == [], f"options in pytest --help but not in {CONFIGURATION.name}"


def registered_ini_names() -> list[str]:
    """The names replay/plugin.py passes to ``parser.addini``."""
    tree = ast.parse((REPO / "replay" / "plugin" / "options.py").read_text(encoding="utf-8"))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "addini"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]


def test_every_ini_setting_is_documented(pytester: pytest.Pytester) -> None:
    names = registered_ini_names()
    output = pytester.runpytest("--help").stdout.str()
    in_help = set(re.findall(r"^\s+(llm_replay_\w+) \(", output, re.MULTILINE))
    assert set(names) == in_help, "the ini names found in plugin.py are those pytest lists"
    page = CONFIGURATION.read_text(encoding="utf-8")
    missing = [name for name in names if not mentioned(name, page)]
    assert missing == [], f"ini settings registered but not in {CONFIGURATION.name}"


def test_every_marker_option_and_the_mode_variable_are_documented() -> None:
    page = CONFIGURATION.read_text(encoding="utf-8")
    names = [*MARKER_OPTIONS, MODE_ENV, "OPENAI_BASE_URL", "OPENAI_API_KEY"]
    assert [name for name in names if not mentioned(name, page)] == []


def test_every_fixture_member_is_documented() -> None:
    handle = LLMReplay(Player(MemoryStore(), "replay"), "http://replay.test/v1", "smollm2")
    members = {name for name in dir(handle) if not name.startswith("_")}
    assert {"mode", "base_url", "model", "openai", "transport"} <= members
    page = CONFIGURATION.read_text(encoding="utf-8")
    assert sorted(name for name in members if not mentioned(name, page)) == []


def cli_help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert llm_replay_main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_every_llm_replay_command_and_option_is_documented(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = cli_help(capsys)
    listing = output.split("commands:", 1)[1]
    commands = re.findall(r"^ {4}([a-z][\w-]*)", listing, re.MULTILINE)
    assert {"ls", "show", "verify", "import-llama-stack", "prune"} <= set(commands), output
    options = set(re.findall(r"^\s+(--[\w-]+)", output, re.MULTILINE))
    for command in commands:
        options |= set(re.findall(r"^\s+(--[\w-]+)", cli_help(capsys, command), re.MULTILINE))
    options.discard("--help")
    page = CONFIGURATION.read_text(encoding="utf-8")
    assert [command for command in commands if not mentioned(command, page)] == []
    assert sorted(option for option in options if not mentioned(option, page)) == []


# --- what the docs cite exists -------------------------------------------------------------


def defined_functions(path: Path) -> set[str]:
    """The functions (and methods) defined in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_cited_test_exists() -> None:
    cited = {
        (page.name, file, name)
        for page in pages()
        for file, name in CITED.findall(prose(page.read_text(encoding="utf-8")))
    }
    assert len(cited) >= 20, "the guarantees page cites the tests that check each guarantee"
    absent = [
        f"{page}: {file}::{name}"
        for page, file, name in sorted(cited)
        if not (REPO / file).is_file() or name not in defined_functions(REPO / file)
    ]
    assert absent == []


def test_python_examples_compile_and_import_what_exists() -> None:
    """Every Python example compiles, and what it imports from this package is there: a
    module moved or a name renamed breaks the page that shows it, and fails here."""
    imported = 0
    for page in [*pages(), REPO / "README.md"]:
        for info, code in fenced_blocks(page.read_text(encoding="utf-8")):
            if info.split(" ", 1)[0] != "python":
                continue
            where = f"{page.name} ({info})"
            tree = compile(code, where, "exec", ast.PyCF_ONLY_AST)
            ours = [
                node
                for node in ast.walk(tree)
                if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("replay"))
                or (isinstance(node, ast.Import) and node.names[0].name.startswith("replay"))
            ]
            exec(compile(ast.Module(body=ours, type_ignores=[]), where, "exec"), {})
            imported += len(ours)
    assert imported >= 2  # the pages do show imports of replay: this checks them


def test_every_page_is_in_the_nav() -> None:
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    assert [page.name for page in pages() if f": {page.name}\n" not in nav] == []
