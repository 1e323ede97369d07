# compare_lib.sh - what the side-by-side scripts (epoch_compare.sh,
# cnn_compare.sh, make_venv.sh) share: errors, flag checks, the Python to
# use, the log folder, nnc's peak and medians. Sourced, not run; the caller
# sets `me` (its own name, for messages) and `root` (the repository) first.

die() {
  echo "$me: error: $*" >&2
  exit 1
}
need_value() {
  [ $# -ge 2 ] || die "'$1' needs a value"
}
# The comment block at the top of the calling script, as its --help.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
need_positive() { # FLAG VALUE
  [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, not '$2'"
}
need_known() { # ALL WANTED: each name of WANTED is one of ALL (both comma lists)
  local c
  for c in ${2//,/ }; do
    [[ ,$1, == *,$c,* ]] || die "unknown contender '$c' (want some of $1)"
  done
}
# The Python of benchmarks/make_venv.sh's environment VENV if it is there,
# else Debian's.
bench_python() { # VENV
  if [ -x "$1/bin/python" ]; then echo "$1/bin/python"; else echo /usr/bin/python3; fi
}
# Sets `tmp`: OUT (made if needed) when given, else a temporary folder that
# is removed at exit.
open_log_dir() { # [OUT]
  if [ -n "${1:-}" ]; then
    mkdir -p "$1"
    tmp=$(cd "$1" && pwd)
  else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
  fi
}
fail_run() { # LOG MESSAGE: shows the failed run's log, then dies
  cat "$1" >&2
  die "$2"
}
# The peak GFLOP/s `nnc bench` reports for MODEL with FLAGS.
nnc_peak() { # NNC MODEL LOG FLAGS...
  local nnc=$1 model=$2 log=$3 peak
  shift 3
  "$nnc" bench "$model" "$@" --json >"$log" 2>&1 ||
    fail_run "$log" "nnc bench failed (pass --peak GFLOPS)"
  peak=$(sed -n 's/.*"peak_gflops": \([0-9.]*\).*/\1/p' "$log" | head -1)
  [ -n "$peak" ] && [ "$peak" != 0.0 ] || die "no peak in nnc bench's output (pass --peak GFLOPS)"
  echo "$peak"
}
median() { # FILE of numbers, one per line
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
    else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
