"""Run the benchmark suite: ``python benchmarks/run.py [--quick] [--json out.json]``.

Runs every section in this interpreter, on the HTTP flavour its openai uses (openai 3.x:
httpx2, openai 2.x: httpx), prints the table and writes the JSON. ``--python OTHER`` runs the
suite again in another interpreter afterwards (one at a time, never side by side) and prints
all the tables together, e.g. ``/work/venv3/bin/python benchmarks/run.py --python
/work/venv2/bin/python``. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import instructions, live_record, long_stream, many_small, scale
from benchmarks.report import Row, markdown, rows_from_json, table
from replay.core.http_flavours import Flavour, default_flavour

SECTIONS: dict[str, Callable[[Flavour, Path, int], list[Row]]] = {
    "1": long_stream.run,
    "2": many_small.run,
    "3": scale.run,
    "4": live_record.run,
}
PACKAGES = (
    "openai", "httpx", "httpx2", "orjson", "vcrpy", "llama_cpp_python", "pytest", "pydantic",
    "PyYAML", "pyinstrument",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="9 repeats instead of 21 (15 live)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--sections", default="1234", help="which sections to run, e.g. 12 (default: 1234)"
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="INTERPRETER",
        help="afterwards, run the suite again with this interpreter (repeatable)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count sections 1 and 2 in CPU instructions under valgrind (a few minutes; "
        "see benchmarks/instructions.py)",
    )
    parser.add_argument(
        "--calm",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each section, wait up to this long for the 1-minute load average to "
        "drop to the number of cores (default: do not wait)",
    )
    parser.add_argument(
        "--show", type=Path, metavar="JSON", help="print the tables of a saved run; measure nothing"
    )
    options = parser.parse_args(argv)

    if options.show:
        saved = json.loads(options.show.read_text(encoding="utf-8"))
        for each in saved.get("runs", [saved]):
            print(_render(each, options.markdown))
        return 0
    result = run_here(options.sections, options.quick, options.calm, options.instructions)
    results = [result]
    print(_render(result, options.markdown), flush=True)
    for interpreter in options.python:
        results.append(
            run_elsewhere(
                interpreter, options.sections, options.quick, options.calm, options.instructions
            )
        )
    if len(results) > 1:
        print("\n== all interpreters ==")
        for each in results:
            print(_render(each, options.markdown))
    if options.json:
        document: Any = results[0] if len(results) == 1 else {"runs": results}
        options.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {options.json}")
    return 0


def run_here(
    sections: str, quick: bool, calm: float = 0.0, count_instructions: bool = False
) -> dict[str, Any]:
    """Every asked-for section in this interpreter; the rows and the environment."""
    flavour = default_flavour()
    repeats = 9 if quick else 21
    live_repeats = 9 if quick else 15
    started = time.time()
    environment = describe_environment(flavour)
    print(f"running sections {sections} with {sys.executable} ({flavour})", flush=True)
    rows: list[Row] = []
    loads: dict[str, tuple[float, ...]] = {}
    with tempfile.TemporaryDirectory(prefix="llm-playback-bench-") as temporary:
        for name in sections:
            wait_for_calm(calm)
            begun = time.perf_counter()
            before = os.getloadavg()
            count = live_repeats if name == "4" else repeats
            rows += SECTIONS[name](flavour, Path(temporary) / f"section{name}", count)
            loads[name] = before + os.getloadavg()
            print(
                f"  section {name}: {time.perf_counter() - begun:.0f} s, load average "
                f"{before[0]:.1f} before, {loads[name][3]:.1f} after",
                flush=True,
            )
    counted = "".join(section for section in sections if section in "12")
    if count_instructions and counted:
        print(f"  counting sections {counted} in instructions under valgrind", flush=True)
        rows += instructions.rows(flavour, counted)
    environment["load_average_after"] = os.getloadavg()
    environment["load_average_by_section"] = loads
    environment["seconds"] = round(time.time() - started, 1)
    environment["repeats"] = {"replay": repeats, "live": live_repeats}
    return {"environment": environment, "rows": [row.to_json() for row in rows]}


def wait_for_calm(patience: float) -> None:
    """Wait up to ``patience`` seconds for the 1-minute load average to drop to the number
    of cores: other work on the machine is the main source of noise."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] > cores and time.monotonic() < deadline:
        time.sleep(5)


def run_elsewhere(
    interpreter: str, sections: str, quick: bool, calm: float, count_instructions: bool
) -> dict[str, Any]:
    """The suite in another interpreter, its output passed through; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="llm-playback-bench-") as temporary:
        out = Path(temporary) / "result.json"
        command = [interpreter, str(Path(__file__).resolve()), "--json", str(out)]
        command += ["--sections", sections, "--calm", str(calm)] + (["--quick"] if quick else [])
        command += ["--instructions"] if count_instructions else []
        subprocess.run(command, check=True)
        loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return loaded


def describe_environment(flavour: str) -> dict[str, Any]:
    """The machine and the versions the figures were measured with."""
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "flavour": flavour,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "versions": versions,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _heading(environment: dict[str, Any]) -> str:
    versions = environment["versions"]
    shown = ", ".join(f"{name} {value}" for name, value in versions.items() if value)
    return (
        f"== {environment['executable']} (Python {environment['python']}), flavour "
        f"{environment['flavour']}: {shown}\n   {environment['cpu']}, "
        f"{environment['cores']} cores, load average "
        + " ".join(f"{load:.1f}" for load in environment["load_average_before"])
    )


def _render(result: dict[str, Any], as_markdown: bool) -> str:
    rows = rows_from_json(result["rows"])
    heading = _heading(result["environment"])
    body = markdown(rows) if as_markdown else table(rows)
    return f"\n{heading}\n{body}"


if __name__ == "__main__":
    raise SystemExit(main())
