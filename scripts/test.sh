#!/usr/bin/env bash
# Install everything and run the whole test suite, real llama.cpp server included, under
# openai 3.x (httpx2) and openai 2.x (httpx); lint and type-check; build the sdist and the
# wheel, check them, and replay the examples from the wheel in a fresh environment.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "== test: $*"; }

for major in 3 2; do
  step "set-up of .venv-openai${major} (openai ${major}.x)"
  bash scripts/bootstrap.sh "$major"
done

step "ruff, ruff format --check, mypy --strict, mkdocs --strict"
.venv-openai3/bin/ruff check .
.venv-openai3/bin/ruff format --check .
.venv-openai3/bin/mypy replay
.venv-openai3/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"

step "build the sdist and the wheel (python -m build), twine check"
dist="$(mktemp -d)"
.venv-openai3/bin/python -m build --outdir "$dist" . >"$dist/build.log" 2>&1 \
  || { cat "$dist/build.log"; exit 1; }
.venv-openai3/bin/twine check --strict "$dist"/*.tar.gz "$dist"/*.whl
# tests/test_wheel.py installs this wheel into a fresh venv and replays the examples from it.
LLM_PLAYBACK_WHEEL="$(compgen -G "$dist/*.whl" | head -n 1)"
export LLM_PLAYBACK_WHEEL

for major in 3 2; do
  step "tests with openai ${major}.x"
  .venv-openai${major}/bin/python -m pytest -n 2 "$@"
done
