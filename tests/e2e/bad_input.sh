#!/usr/bin/env bash
# Bad input through the command line: every case must give a clear message
# and exit code 1, never a crash, and must not touch existing weight files.
source "$(dirname "$0")/lib.bash"
M=$EX/mnist_mlp.nn
C=$EX/churn.nn

# The command line.
expect_error "unknown command 'trian'; did you mean 'train'?" "$NNC" trian "$C"
expect_error "unknown option '--epoch'; did you mean '--epochs'?" "$NNC" train "$C" --epoch 3
expect_error "unknown option '-x' (options start with '--')" "$NNC" train "$C" -x
expect_error "option '-o' needs a value (FILE)" "$NNC" compile "$C" -o
expect_ok "$NNC" compile "$C" -o "$TMP/churn.o" && [ -s "$TMP/churn.o" ] || fail "-o did not write the object file"
expect_error "invalid value 'many' for --epochs" "$NNC" train "$C" --epochs many
expect_error "--batch must be at least 1" "$NNC" train "$C" --batch 0
expect_error "--lr must be a positive number" "$NNC" train "$C" --lr -1
expect_error "--validation must be in [0, 1)" "$NNC" train "$C" --validation 1.5
expect_error "unknown backend 'tpu'" "$NNC" train "$C" --backend tpu
expect_error "invalid value 'bf16' for --precision" "$NNC" train "$C" --precision bf16
expect_error "--precision=tf32 is for the cuda backend (this run uses cpu)" \
  "$NNC" train "$C" --precision tf32 --backend cpu
expect_error "--precision=tf32 is for the cuda backend (this run uses --stage=llvm)" \
  "$NNC" emit "$C" --stage llvm --precision tf32
expect_error "sm_80 or newer (this is sm_75)" \
  "$NNC" emit "$C" --stage ptx --arch sm_75 --precision tf32
expect_error "unknown stage 'llvmir'" "$NNC" emit "$C" --stage=llvmir
expect_error "no model file given" "$NNC" check
expect_error "$TMP/none.nn: error: cannot open file" "$NNC" check "$TMP/none.nn"

# Data files.
expect_error "$TMP/missing" "$NNC" train "$M" --data "$TMP/missing" --steps 1
printf 'this is not an IDX file\n' >"$TMP/bad-images-idx3-ubyte"
cp "$TMP/bad-images-idx3-ubyte" "$TMP/bad-labels-idx1-ubyte"
expect_error "bad-images-idx3-ubyte" "$NNC" train "$M" --data "$TMP/bad" --steps 1
if [ -e "$FMNIST/t10k-images-idx3-ubyte.gz" ]; then
  gzip -dc "$FMNIST/t10k-images-idx3-ubyte.gz" | head -c 100000 >"$TMP/cut-images-idx3-ubyte"
  cp "$FMNIST/t10k-labels-idx1-ubyte.gz" "$TMP/cut-labels-idx1-ubyte.gz"
  expect_error "cut-images-idx3-ubyte" "$NNC" train "$M" --data "$TMP/cut" --steps 1
fi
printf 'hours,days,keep\n15,22,1\n8,6\n' >"$TMP/ragged.csv"
expect_error "ragged.csv:3:" "$NNC" train "$C" --data "$TMP/ragged.csv" --steps 1
printf 'hours,days,keep\n15,22,1\n8,six,0\n' >"$TMP/nan.csv"
expect_error "nan.csv:3:3: error: not a number 'six'" "$NNC" train "$C" --data "$TMP/nan.csv" --steps 1
printf 'hours,days,keep\n15,22,1\n8,6,7\n' >"$TMP/label.csv"
expect_error "label.csv:3:5: error: label '7' on line 3 is not 0 or 1" "$NNC" train "$C" --data "$TMP/label.csv" --steps 1
printf 'a,b,c,keep\n1,2,3,1\n' >"$TMP/wide.csv"
expect_error "samples have 3 values, but input 'x'" "$NNC" train "$C" --data "$TMP/wide.csv" --steps 1

# Weight files and checkpoints.
expect_ok "$NNC" train "$C" --steps 0 --quiet --save "$TMP/churn.safetensors"
head -c 40 "$TMP/churn.safetensors" >"$TMP/cut.safetensors"
expect_error "cut.safetensors" "$NNC" eval "$C" --weights "$TMP/cut.safetensors" --data "$EX/data/churn.csv"
cp "$TMP/churn.safetensors" "$TMP/flip.safetensors"
size=$(stat -c %s "$TMP/flip.safetensors")
printf '\x7f' | dd of="$TMP/flip.safetensors" bs=1 seek=$((size - 2)) conv=notrunc 2>/dev/null
expect_error "checksum" "$NNC" eval "$C" --weights "$TMP/flip.safetensors" --data "$EX/data/churn.csv"
expect_ok "$NNC" train "$EX/xor.nn" --steps 0 --quiet --save "$TMP/xor.safetensors"
expect_error "weights do not match model 'churn' (the file is from model 'xor')" \
  "$NNC" eval "$C" --weights "$TMP/xor.safetensors" --data "$EX/data/churn.csv"
expect_error "missing 'w'" "$NNC" eval "$C" --weights "$TMP/xor.safetensors" --data "$EX/data/churn.csv"
expect_error "eval needs --weights" "$NNC" eval "$C"

# A resumed run must use the settings it was written with.
expect_ok "$NNC" train "$C" --steps 3 --quiet --checkpoint "$TMP/ck.safetensors"
expect_error "resume with the same settings" "$NNC" train "$C" --batch 2 --resume "$TMP/ck.safetensors"
# An already fused graph given to autodiff: a located user error, not an
# internal one (it exited 3, "no gradient rule for fused op").
"$NNC" emit "$EX/xor.nn" --stage=fused > "$TMP/fused.nnir" || fail "emit --stage=fused"
expect_error "error: 'fused.dense' is a fused op" "$NNC" emit "$TMP/fused.nnir" --stage=grad
# The weights file from before is still intact after all of this.
expect_ok "$NNC" eval "$C" --weights "$TMP/churn.safetensors" --data "$EX/data/churn.csv"
finish
