#!/usr/bin/env bash
# The lr schedules and clip_grad_norm against PyTorch: the same initial
# weights (safetensors), the same batches (--no-shuffle), SGD with momentum
# over 4 epochs of 4 steps (so the schedules change), on the interpreter,
# the CPU backend fused and unfused; the weights must agree to 1e-4
# relative and the metrics' lr column with the torch scheduler's lr
# (tests/e2e/torch_schedules.py). Skips when torch is missing.
source "$(dirname "$0")/lib.bash"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "SKIP: PyTorch is not installed (Debian python3-torch)"
  exit 77
fi
DATA=$NNC_SOURCE_DIR/tests/data/fashion-tiny
backends=(interp)
if "$NNC" train "$EX/xor.nn" --backend=cpu --steps 1 --quiet >/dev/null 2>&1; then
  backends+=(cpu cpu-unfused)
else
  echo "note: this nnc has no cpu backend; the interpreter alone"
fi

# model FILE SCHEDULE_LINE: the 784-32-10 network on the tiny Fashion-MNIST.
model() {
  cat >"$1" <<NN
model sched
input x : f32[784]
label y : class(10)
fc1 = dense(x, 32, relu)
fc2 = dense(fc1, 10)
loss cross_entropy(softmax(fc2), y)
train {
  data idx("$DATA")
  optimizer sgd(lr = 0.1, momentum = 0.9)
  $2
  batch 64  epochs 4  seed 7  validation 0  l2 $3
}
NN
}

# check CASE L2 "SETTING": trains on every backend, then asks PyTorch.
check() {
  local case=$1 l2=$2 setting=$3 name=${1//[:+]/_}
  model "$TMP/$name.nn" "$setting" "$l2"
  expect_ok "$NNC" train "$TMP/$name.nn" --no-shuffle --steps 0 --quiet \
    --save "$TMP/$name.init.safetensors" || return
  local results=()
  for b in "${backends[@]}"; do
    local flags=(--backend="${b%-unfused}")
    [ "$b" = cpu-unfused ] && flags+=(--fuse=none)
    expect_ok "$NNC" train "$TMP/$name.nn" --no-shuffle --quiet "${flags[@]}" \
      --init "$TMP/$name.init.safetensors" --save "$TMP/$name.$b.safetensors" \
      --metrics "$TMP/$name.$b.csv" || return
    results+=("$TMP/$name.$b.safetensors" "$TMP/$name.$b.csv")
  done
  OMP_NUM_THREADS=2 "$PY" "$NNC_SOURCE_DIR/tests/e2e/torch_schedules.py" \
    "$DATA" 256 "$TMP/$name.init.safetensors" "$case" 0.1 0.9 "$l2" 64 4 \
    "${results[@]}" || fail "nnc and PyTorch disagree on $case"
}

check step:2:0.5 0 "schedule step(every = 2, gamma = 0.5)"
check cosine:3:0.01 0 "schedule cosine(epochs = 3, min_lr = 0.01)"
check warmup:6+cosine:4:0 0 "schedule warmup(steps = 6) + cosine(epochs = 4)"
check warmup:5+step:1:0.7 0 "schedule step(every = 1, gamma = 0.7) + warmup(steps = 5)"
check clip:0.5 0.001 "clip_grad_norm 0.5"
finish
