#!/usr/bin/env bash
# Installs the Debian packages nnc needs, skipping those already present.
# Optional packages (PyTorch, the outside oracle; python3-onnx, the ONNX
# checker; Graphviz and Chromium for nnc graph and the report and play
# tests; OpenBLAS, a baseline of benchmarks/) may fail without stopping the
# build; the tests that need them skip with a message.
set -eu
required=(cmake ninja-build ccache g++ pkg-config llvm-19-dev llvm-19-tools
          libfmt-dev libgtest-dev libbenchmark-dev zlib1g-dev
          dataset-fashion-mnist clang-19 libclang-rt-19-dev
          libprotobuf-dev protobuf-compiler libonnx-dev
          libopenmpi-dev openmpi-bin)
optional=(python3-torch python3-onnx graphviz chromium libopenblas-dev)

missing() {
  local out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

need=$(missing "${required[@]}")
want=$(missing "${optional[@]}")
if [ -n "$need$want" ]; then
  echo "nnc: installing Debian packages: $need $want"
  $sudo apt-get update -qq || true
fi
if [ -n "$need" ]; then
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $need
fi
if [ -n "$want" ]; then
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $want ||
    echo "nnc: note: could not install $want; the tests that need it will skip"
fi
