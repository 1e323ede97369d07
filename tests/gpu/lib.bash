# Shared by the GPU scripts (label `gpu`): the e2e helpers, and a skip
# (exit 77, with the reason) where there is no CUDA device.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.bash"
why=$("$NNC" bench "$EX/xor.nn" --backend=cuda --repeats 1 --warmup 0 \
  2>&1 >/dev/null)
if [[ $why == *"no CUDA device found"* ]]; then
  echo "skip: ${why#nnc: error: }"
  exit 77
fi
