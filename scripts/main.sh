#!/usr/bin/env bash
# The main job: record the example suite against a llama.cpp server the plugin starts on the
# bundled SmolLM2-135M model, then replay it with no server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh 3
echo "== record: pytest examples --record"
.venv-openai3/bin/python -m pytest examples --record -v
echo "== replay: pytest examples"
.venv-openai3/bin/python -m pytest examples -v
git status --short recordings || true
