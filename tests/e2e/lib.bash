# Shared helpers of the end-to-end tests (sourced, not a test itself).
set -u
: "${NNC:?NNC must name the nnc binary}"
: "${NNC_SOURCE_DIR:?}"
EX=$NNC_SOURCE_DIR/examples
FMNIST=/usr/share/datasets/fashion-mnist
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_error SUBSTRING CMD...: CMD must exit 1 (not crash, not succeed) and
# its stderr must contain SUBSTRING.
expect_error() {
  local want=$1
  shift
  local out rc
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 1 ]; then
    fail "exit code $rc (want 1): $*"$'\n'"$out"
  elif [[ $out != *"$want"* ]]; then
    fail "message lacks '$want': $*"$'\n'"$out"
  else
    echo "ok: $want"
  fi
}

# expect_ok CMD...: CMD must succeed; its stdout is kept in $OUT.
expect_ok() {
  OUT=$("$@" 2>"$TMP/stderr")
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "exit code $rc: $*"$'\n'"$(cat "$TMP/stderr")"
    return 1
  fi
  return 0
}

# es_model FILE EPOCHS PATIENCE: the churn neuron with a validation split
# and early stopping that restores the best weights (min_delta 100: no
# epoch counts as better than the first), shared by the early-stop tests.
es_model() {
  cat >"$1" <<NN
model es
input x : f32[2]
label y : binary
out = dense(x, 1)
loss bce(sigmoid(out), y)
train {
  data csv("$EX/data/churn.csv", label = "keep")
  optimizer sgd(lr = 0.01, momentum = 0.5)
  batch 2  epochs $2  validation 0.4  seed 5
  early_stop(patience = $3, min_delta = 100, restore_best = true)
}
NN
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
  fi
  echo "all passed"
}
