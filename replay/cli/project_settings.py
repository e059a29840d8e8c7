"""The plugin's ini settings as the ``llm-playback`` command finds them: from the current
folder upward, the first of ``pytest.toml``/``.pytest.toml`` (``[pytest]``),
``pytest.ini``/``.pytest.ini``, ``pyproject.toml`` (``[tool.pytest.ini_options]`` or
``[tool.pytest]``), ``tox.ini`` (``[pytest]``) and ``setup.cfg`` (``[tool:pytest]``), as pytest
picks its configuration file when given no arguments; failing those, the first
``pyproject.toml`` met, as pytest does.

pytest has no public API that reads the ini file without building a whole ``Config`` (which
loads every plugin), so this reads the few files itself with tomllib and configparser.
"""

from __future__ import annotations

import configparser
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = "recordings"
NAMES = (
    "pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini",
    "setup.cfg",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """The ini file found (None: none) and its folder, pytest's rootdir for it."""

    rootdir: Path
    inifile: Path | None
    values: dict[str, str]

    @property
    def recordings_dir(self) -> Path:
        """``llm_replay_dir`` under the rootdir (default ``recordings``)."""
        folder = self.values.get("llm_replay_dir", "").strip() or DEFAULT_DIR
        return self.rootdir / Path(folder).expanduser()


def read_ini(path: Path) -> dict[str, str] | None:
    """The pytest section of one candidate file as strings, or None if it has none (a
    ``pytest.ini`` counts even when empty, as for pytest)."""
    try:
        if path.suffix == ".toml":
            document = tomllib.loads(path.read_text(encoding="utf-8"))
            if path.name == "pyproject.toml":
                tool = document.get("tool", {}).get("pytest", {})
                section = tool.get("ini_options", dict(tool) or None)
            else:  # pytest.toml: always the configuration file, even empty
                section = document.get("pytest", {})
            if not isinstance(section, dict):
                return None
            return {key: _text(value) for key, value in section.items()}
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    section_name = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    if parser.has_section(section_name):
        return dict(parser.items(section_name))
    return {} if path.name in ("pytest.ini", ".pytest.ini") else None  # as pytest does


def find_project_settings(start: Path) -> ProjectSettings:
    """The settings pytest would use run from ``start``; none found: ``start`` with none."""
    start = start.resolve()
    first_pyproject: Path | None = None
    for folder in (start, *start.parents):
        for name in NAMES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name == "pyproject.toml" and first_pyproject is None:
                first_pyproject = candidate
            if (values := read_ini(candidate)) is not None:
                return ProjectSettings(folder, candidate, values)
    if first_pyproject is not None:
        return ProjectSettings(first_pyproject.parent, first_pyproject, {})
    return ProjectSettings(start, None, {})


def _text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)
