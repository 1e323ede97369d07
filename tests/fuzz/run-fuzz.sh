#!/usr/bin/env bash
# Runs every libFuzzer target for FUZZ_SECONDS (default 60) each, one after
# the other, from a corpus seeded with the repository's examples and tests.
#   tests/fuzz/run-fuzz.sh BUILD_DIR
# New inputs accumulate in BUILD_DIR/corpus/<target> (kept between runs);
# crashes, hangs (> 10 s) and leaks go to BUILD_DIR/findings/<target>/ and
# fail the run. The last line per target is its execution count, also
# written to BUILD_DIR/fuzz-stats.txt.
set -euo pipefail
build=${1:?usage: run-fuzz.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$build" && pwd)
seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{Nn,IR,Idx,Csv,Safetensors,OnnxImport}

# .nn: the examples and every golden .nn file (errors included).
cp "$root"/examples/*.nn "$seeds/Nn/"
find "$root/tests/golden" -name '*.nn' -exec cp {} "$seeds/Nn/" \;
# IR text: golden .nnir files and every example's graph at each stage.
find "$root/tests/golden" -name '*.nnir' -exec cp {} "$seeds/IR/" \;
nnc=${NNC:-}
if [ -n "$nnc" ] && [ -x "$nnc" ]; then
  for f in "$root"/examples/*.nn; do
    for stage in ir grad opt; do
      "$nnc" emit --stage=$stage "$f" > "$seeds/IR/$(basename "$f" .nn)-$stage.nnir" 2>/dev/null ||
        rm -f "$seeds/IR/$(basename "$f" .nn)-$stage.nnir"
    done
  done
fi
# IDX: small uncompressed files (the tests/data ones are gzipped, which
# parseIdx does not read).
cp "$here"/seeds/idx/* "$seeds/Idx/"
# CSV: the first byte picks the label column (0: "keep", 1: "y").
printf '\0' | cat - "$root/examples/data/churn.csv" > "$seeds/Csv/churn.csv"
printf '\1' | cat - "$root/examples/data/xor.csv" > "$seeds/Csv/xor.csv"
printf '\2' | cat - "$root/examples/data/xor.csv" > "$seeds/Csv/xor-nolabel.csv"
cp "$here"/seeds/safetensors/* "$seeds/Safetensors/"
# ONNX: tiny models written by torch.onnx.export and onnx.helper
# (tests/fuzz/seeds/onnx/make-seeds.py), each a pattern nnc import knows.
cp "$here"/seeds/onnx/*.onnx "$seeds/OnnxImport/"
# Inputs that once crashed a target, replayed first (regressions).
cp "$here"/seeds/ir/* "$seeds/IR/"
cp "$here"/seeds/nn/* "$seeds/Nn/"

: > "$build/fuzz-stats.txt"
status=0
targets=(Nn IR Idx Csv Safetensors)
[ -x "$build/fuzz_OnnxImport" ] && targets+=(OnnxImport)
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  findings=$build/findings/$t
  mkdir -p "$corpus" "$findings"
  log=$build/fuzz-$t.log
  echo "fuzz: $t for ${seconds}s"
  # -max_len 64 KiB: enough for every seed, small enough to stay fast.
  if ! "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$corpus" "$seeds/$t" > "$log" 2>&1; then
    echo "fuzz: $t FAILED; the input is in $findings/, the log in $log"
    grep -E 'ERROR|SUMMARY|==[0-9]+==|fuzz:' "$log" | head -20 || true
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  echo "$t executions=${execs:-0} coverage=${cov:-0} corpus=$(ls "$corpus" | wc -l)" |
    tee -a "$build/fuzz-stats.txt"
done
exit $status
