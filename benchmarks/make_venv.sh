#!/usr/bin/env bash
# make_venv.sh - a Python virtual environment with JAX and PyTorch from PyPI,
# for the peer benchmarks (compare_jax.py, compare_pytorch.py's torch.compile
# variant, epoch_compare.sh). Benchmarks only: nothing in nnc's build or tests
# uses it.
#
# Usage: benchmarks/make_venv.sh [--dir DIR] [--python PY] [--force]
# Defaults: DIR $NNC_BENCH_VENV or ~/.cache/nnc/bench-venv (outside the
# repository, so no worktree carries it), PY python3 (3.10 or newer).
# --force makes the environment anew. Otherwise an environment that already
# imports jax and torch is left as it is.
#
# It runs `pip install jax torch` (the current releases). PyPI has no
# CPU-only torch wheel for Linux x86-64 (that one is on PyTorch's own index,
# which these machines do not reach): the PyPI wheel pulls the CUDA runtime
# packages (nvidia-*, triton) as dependencies, several GB. The script prints
# the versions and the environment's size at the end. The other scripts find
# the environment through --python DIR/bin/python (or epoch_compare.sh's
# --venv DIR).
set -euo pipefail

dir=${NNC_BENCH_VENV:-$HOME/.cache/nnc/bench-venv}
python=python3
force=0

die() {
  echo "make_venv.sh: error: $*" >&2
  exit 1
}
need_value() {
  [ $# -ge 2 ] || die "'$1' needs a value"
}
while [ $# -gt 0 ]; do
  case $1 in
  --dir) need_value "$@"; dir=$2; shift 2 ;;
  --python) need_value "$@"; python=$2; shift 2 ;;
  --force) force=1; shift ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown flag '$1' (see --help)" ;;
  esac
done

version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) ||
  die "$python: no such Python (or it does not run)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  die "$python is Python $version: jax and torch need 3.10 or newer"

report() {
  "$dir/bin/python" - <<'EOF'
import jax, torch
print(f"jax {jax.__version__} (jaxlib {jax.lib.__version__ if hasattr(jax.lib, '__version__') else '?'}), "
      f"devices {jax.devices()}")
print(f"torch {torch.__version__}, cuda build {torch.version.cuda}, "
      f"torch.compile {'yes' if hasattr(torch, 'compile') else 'no'}")
EOF
  echo "size: $(du -sh "$dir" | cut -f1) in $dir"
  du -s "$dir"/lib/python*/site-packages/* 2>/dev/null | sort -rn | head -5 |
    awk '{ printf "  %6.0f MB  %s\n", $1 / 1024, $2 }'
}

if [ $force = 0 ] && [ -x "$dir/bin/python" ] &&
  "$dir/bin/python" -c 'import jax, torch' 2>/dev/null; then
  echo "make_venv.sh: $dir already has jax and torch (--force to make it anew)"
  report
  exit 0
fi

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
"$python" -m venv "$dir"
"$dir/bin/python" -m pip install --upgrade pip
"$dir/bin/python" -m pip install jax torch numpy
report
