#!/usr/bin/env bash
# Install everything and run the whole test suite, real llama.cpp server included, under
# openai 3.x (httpx2) and openai 2.x (httpx); then lint and type-check.
set -euo pipefail
cd "$(dirname "$0")/.."

for major in 3 2; do
  bash scripts/bootstrap.sh "$major"
done

.venv-openai3/bin/ruff check .
.venv-openai3/bin/ruff format --check .
.venv-openai3/bin/mypy replay
.venv-openai3/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"

for major in 3 2; do
  echo "== tests with openai ${major}.x"
  .venv-openai${major}/bin/python -m pytest -n 2 "$@"
done
