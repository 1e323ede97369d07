#!/usr/bin/env bash
# nnc graph: DOT for every stage of the examples that Graphviz's dot parses
# (where dot is installed); the fused kernels as clusters, shapes on edges,
# each node labelled with its .nn line; --values writes one step's values
# and gradients into the labels; SVG and PNG through dot; clear errors.
source "$(dirname "$0")/lib.bash"

have_dot=0
if command -v dot >/dev/null; then
  have_dot=1
else
  echo "note: Graphviz's dot is not installed (Debian graphviz): DOT is" \
    "checked as text only, SVG/PNG output is not tested"
fi

for model in churn xor mnist_mlp conv_tiny; do
  for stage in forward grad fused; do
    expect_ok "$NNC" graph "$EX/$model.nn" --stage=$stage || continue
    printf '%s\n' "$OUT" >"$TMP/$model.$stage.dot"
    [[ $OUT == "digraph \"$model\" {"* ]] || fail "$model $stage: not a digraph"
    if [ $have_dot = 1 ]; then
      dot -Tsvg "$TMP/$model.$stage.dot" -o "$TMP/$model.$stage.svg" \
        2>"$TMP/dot.err" || fail "dot rejects $model $stage: $(cat "$TMP/dot.err")"
      [ -s "$TMP/dot.err" ] && fail "dot warns on $model $stage: $(cat "$TMP/dot.err")"
    fi
  done
done
[ $have_dot = 1 ] && echo "ok: dot parses every stage of churn, xor, mnist_mlp, conv_tiny"

# A convolution and a pooling are labelled with their windows.
grep -q 'label="c.conv = conv2d\\nkernel 2x2, stride 1, padding 0\\nf32\[N,1,3,3\]' \
  "$TMP/conv_tiny.forward.dot" || fail "conv_tiny's conv2d is not labelled with its window"
grep -q 'label="d.c = maxpool2d_grad\\nkernel 2x2, stride 1, padding 0\\nf32\[N,1,3,3\]' \
  "$TMP/conv_tiny.grad.dot" || fail "conv_tiny's maxpool2d_grad is not labelled with its window"
# The fused conv kernels are clusters: relu folded into conv2d, its
# derivative into the weight gradient.
grep -q 'label="kernel %c = conv2d {act = relu}"' "$TMP/conv_tiny.fused.dot" ||
  fail "no cluster for conv_tiny's fused conv2d"
grep -q 'label="kernel %d.c.weight = conv2d_grad_weight {act = relu}"' \
  "$TMP/conv_tiny.fused.dot" || fail "no cluster for conv_tiny's fused weight gradient"

# The evaluation graph: batch norm (its channel_affine) drawn inside its
# convolution's kernel, before the relu in resnet_small (conv -> batch norm
# -> relu), after it in fashion_cnn (conv + relu -> batch norm).
for want in "resnet_small:%a0 = conv2d {act = relu, affine = before}" \
  "fashion_cnn:%b1 = conv2d {act = relu, affine = after}"; do
  model=${want%%:*}
  expect_ok "$NNC" graph "$EX/$model.nn" --stage=eval || continue
  grep -q "label=\"kernel ${want#*:}\"" <<<"$OUT" ||
    fail "$model --stage=eval: no cluster '${want#*:}'"
done

f=$TMP/mnist_mlp.fused.dot
grep -q 'label="kernel %fc1 = fused.dense {act = relu}"' "$f" ||
  fail "no cluster for fc1's fused.dense"
grep -q 'label="kernel %d.fc3 = fused.softmax_xent_grad"' "$f" ||
  fail "no cluster for the softmax cross-entropy gradient"
grep -q 'label="fc1.matmul = matmul\\nf32\[N,128\]\\nmnist_mlp.nn:7  fc1 = dense(x,   128, relu)"' "$f" ||
  fail "fc1.matmul is not labelled with its op, shape and .nn line"
grep -q -- '-> n[0-9]* \[label="f32\[N,784\]"\]' "$f" || fail "no shape on x's edges"
grep -q 'label="update"' "$f" || fail "no update edges"
[ "$(grep -c 'subgraph cluster_' "$TMP/mnist_mlp.forward.dot")" -eq 0 ] ||
  fail "the forward stage has clusters"
echo "ok: clusters, shapes on edges, .nn lines in labels"

# One step's values and gradients (the lecture's neuron: z = 12.9, 4.2, ...).
expect_ok "$NNC" graph "$EX/churn.nn" --stage=fused --values
grep -q 'z = add\\nf32\[N\]\\nchurn.nn:11  z = x @ w + b\\nvalue \[12.9, 4.2, 9.9, 12.1, ... 5 values\]' <<<"$OUT" ||
  fail "no values of z in its label"
grep -q 'w (param)\\nf32\[2\]\\nchurn.nn:8  param w : f32\[2\] = \[0.1, 0.5\]\\nvalue \[0.1, 0.5\]\\ngrad \[4.846, 5.73\]' <<<"$OUT" ||
  fail "no gradient of w in its label"
expect_ok "$NNC" graph "$EX/churn.nn" --stage=forward --values
grep -q 'grad \[4.846, 5.73\]' <<<"$OUT" || fail "forward stage: no gradients"
echo "ok: --values"

if [ $have_dot = 1 ]; then
  expect_ok "$NNC" graph "$EX/xor.nn" -o "$TMP/xor.svg" &&
    /usr/bin/python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' \
      "$TMP/xor.svg" || fail "xor.svg is not well-formed XML"
  expect_ok "$NNC" graph "$EX/xor.nn" -o "$TMP/xor.png" &&
    [ "$(head -c 4 "$TMP/xor.png" | od -An -c | tr -d ' ')" = '211PNG' ] ||
    fail "xor.png is not a PNG"
  echo "ok: SVG and PNG through dot"
fi

expect_error "unknown stage 'forwrd' for nnc graph; did you mean 'forward'?" \
  "$NNC" graph "$EX/xor.nn" --stage=forwrd
expect_error "name it .dot, .gv, .svg or .png" "$NNC" graph "$EX/xor.nn" -o "$TMP/x.jpg"
expect_error "needs Graphviz's 'dot', which is not installed" \
  env PATH=/nonexistent "$NNC" graph "$EX/xor.nn" -o "$TMP/x.svg"
expect_error "cannot write" "$NNC" graph "$EX/xor.nn" -o "$TMP/no/such/x.dot"
finish
