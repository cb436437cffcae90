#!/usr/bin/env bash
# The GPU check: train tokens/s of the default models on a GPU (mode: JAX) against the CPU
# backend, in one prepared run. From the repository root on a machine with an NVIDIA GPU:
#
#     bash bench/gpu_check.sh          # installs rnnlm[gpu] (jax[cuda12]) into .cache/gpu-venv
#     bash bench/gpu_check.sh --cpu    # the same run with CPU-only JAX: a smoke test anywhere
#
# Prints the backend bench's JSON (bench/backend_throughput.py) and writes it to
# ${OUT:-.}/gpu_check.json. Extra arguments go to the bench (e.g. --steps 10 --models gru).
set -euo pipefail
cd "$(dirname "$0")/.."
extra=gpu
if [ "${1:-}" = "--cpu" ]; then extra=jax; shift; fi
python=$(command -v python3.12 || command -v python3)
venv=.cache/${extra}-venv
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
fi
"$venv/bin/python" -m pip install -q -e ".[$extra]"
if [ "$extra" = gpu ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    "$venv/bin/python" -c 'import jax; d = jax.devices(); assert d[0].platform == "gpu", d; print("JAX devices:", d)'
fi
"$venv/bin/python" bench/backend_throughput.py "$@" > "${OUT:-.}/gpu_check.json.tmp"
mv "${OUT:-.}/gpu_check.json.tmp" "${OUT:-.}/gpu_check.json"
cat "${OUT:-.}/gpu_check.json"
