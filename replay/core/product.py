"""The product's names and version, written once: what users read in messages, what a
recording's ``recorded.by`` says, and the command that records what a replay missed."""

NAME = "pytest-llm-playback"  # the distribution, and the prefix of every message
COMMAND = "llm-playback"  # the command line
VERSION = "0.1.0"  # pyproject.toml reads it (tool.setuptools.dynamic)
LIBRARY = f"{NAME} {VERSION}"  # a recording's recorded.by
RECORD_HINT = "pytest --record-mode=missing"  # records the exchanges a replay missed
