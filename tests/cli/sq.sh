#!/usr/bin/env bash
# End-to-end fine-tuning on a small subset (tests/configs/sq_tiny.yaml) with the bundled
# LeNet-5: every --quant method runs, records its decisions, and is deterministic.
#   sq.sh SQC SOURCE_DIR
set -u
sqc=$1; src=$2
model=$src/models/lenet5.onnx; cfg=$src/tests/configs/sq_tiny.yaml
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1: $2"; }
acc() { sed -n 's/^accuracy: \([0-9.]*\) .*/\1/p' "$1"; }
bits() { grep -o '"bits": [0-9]*' "$1" | awk '{print $2}' | tr '\n' ' '; }

for q in sq twn bwn bc none; do
  ft=; [ $q = none ] && ft=--finetune
  if "$sqc" eval "$model" --config "$cfg" --quant=$q $ft --limit 1000 -q --report "$tmp/$q.json" \
       >"$tmp/$q.out" 2>"$tmp/$q.err"; then
    a=$(acc "$tmp/$q.out"); b=$(bits "$tmp/$q.json")
    n=$(echo $b | wc -w)
    case $q in
      sq)   want='^([12] ){5}$' ;;
      twn)  want='^(2 ){5}$' ;;
      bwn|bc) want='^(1 ){5}$' ;;
      none) want='^(32 ){5}$' ;;
    esac
    if [ "$n" -ne 5 ] || ! echo "$b" | grep -Eq "$want"; then bad "--quant=$q bits" "got '$b'"
    elif ! grep -q '"compression_ratio"' "$tmp/$q.json" || ! grep -q '"packed_weight_bytes"' "$tmp/$q.json"; then
      bad "--quant=$q report" "fields missing"
    elif awk -v a="$a" 'BEGIN {exit !(a > 0.5)}'; then ok "--quant=$q: accuracy $a, bits $b"
    else bad "--quant=$q accuracy" "$a (want > 0.5 after a short fine-tuning)"; fi
  else
    bad "--quant=$q" "exit status $?: $(cat "$tmp/$q.err")"
  fi
done
# float accuracy line comes first and matches plain eval
fa=$(sed -n 's/^float accuracy: \([0-9.]*\) .*/\1/p' "$tmp/sq.out")
pa=$("$sqc" eval "$model" --config "$cfg" --limit 1000 | sed -n 's/^accuracy: \([0-9.]*\) .*/\1/p')
[ -n "$fa" ] && [ "$fa" = "$pa" ] && ok "float accuracy line ($fa)" || bad "float accuracy line" "'$fa' vs plain eval '$pa'"
# same seed: same decisions, same accuracy; the report's figures equal
"$sqc" eval "$model" --config "$cfg" --quant=sq --limit 1000 -q --report "$tmp/sq2.json" >"$tmp/sq2.out" 2>&1
if cmp -s "$tmp/sq.out" "$tmp/sq2.out" && [ "$(bits "$tmp/sq.json")" = "$(bits "$tmp/sq2.json")" ] &&
   diff <(grep -v seconds "$tmp/sq.json") <(grep -v seconds "$tmp/sq2.json") >/dev/null; then
  ok "same seed, same result"
else bad "same seed" "$(diff "$tmp/sq.out" "$tmp/sq2.out")"; fi
# --print-after=sq shows the decisions in the IR
"$sqc" "$model" --config "$cfg" --quant=sq -q --emit=ir --print-after=sq >"$tmp/ir" 2>"$tmp/dump"
if grep -q 'sqc.bits"=' "$tmp/dump" && grep -q 'sqc.scales"=' "$tmp/dump"; then ok "--print-after=sq shows decisions"
else bad "--print-after=sq" "no sqc.bits in the dump"; fi
# quantized activations: the interpreter evaluates with the same integers
if "$sqc" eval "$model" --config "$cfg" --quant=sq --act-bits=8 --limit 1000 -q --report "$tmp/a8.json" \
     >"$tmp/a8.out" 2>"$tmp/a8.err"; then
  a=$(acc "$tmp/a8.out"); ab=$(grep -o '"act_bits": [0-9]*' "$tmp/a8.json" | awk '{print $2}' | sort -u | tr '\n' ' ')
  if [ "$ab" = "8 " ] && awk -v a="$a" 'BEGIN {exit !(a > 0.5)}'; then ok "--act-bits=8: accuracy $a"
  else bad "--act-bits=8" "accuracy '$a', act bits '$ab'"; fi
else bad "--act-bits=8" "exit $?: $(tail -2 "$tmp/a8.err")"; fi
# label-free: distillation from the float model
if "$sqc" eval "$model" --config "$src/tests/configs/sq_nolabels.yaml" --quant=sq --limit 1000 \
     >"$tmp/nl.out" 2>"$tmp/nl.err"; then
  a=$(acc "$tmp/nl.out")
  if grep -q "distilling" "$tmp/nl.err" && awk -v a="$a" 'BEGIN {exit !(a > 0.5)}'; then ok "label-free (distillation): accuracy $a"
  else bad "label-free" "accuracy '$a': $(grep -m1 distill "$tmp/nl.err")"; fi
else bad "label-free" "exit $?: $(tail -2 "$tmp/nl.err")"; fi
# bad hyper-parameters and data that does not fit
printf 'sq:\n  lr: -1\n' >"$tmp/bad.yaml"
"$sqc" eval "$model" --config "$tmp/bad.yaml" --quant=sq >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] && grep -q "sq.lr" "$tmp/e" && ok "bad sq.lr rejected" || bad "bad sq.lr" "exit $rc: $(cat "$tmp/e")"
printf 'sq:\n  optimizer: sgd\n  lr: 1e30\n  train_limit: 256\n  epochs: 1\n' >"$tmp/nan.yaml"
"$sqc" eval "$model" --config "$tmp/nan.yaml" --quant=sq --report "$tmp/nan.json" >"$tmp/o" 2>"$tmp/e"; rc=$?
if [ $rc -eq 1 ] && grep -qi "NaN\|infinite" "$tmp/e" && grep -q "step" "$tmp/e" && [ ! -e "$tmp/nan.json" ]; then ok "diverging loss stops with the step named, no report"
else bad "diverging loss" "exit $rc: $(tail -2 "$tmp/e")"; fi
"$sqc" eval "$src/tests/models/misc_ops_op13.onnx" --config "$cfg" --quant=sq >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] && grep -q "sqc: error:" "$tmp/e" && ok "data that does not fit the model: error" || bad "misfit data" "exit $rc: $(cat "$tmp/e")"
# a model whose export fixed its batch to 1 fine-tunes at the configured batch (64): 768
# images, 1+1 epochs = 24 steps, not 1536
"$sqc" "$model" --save-onnx "$tmp/fixed1.onnx" --emit=ir -o /dev/null -q
"$sqc" eval "$tmp/fixed1.onnx" --config "$cfg" --quant=sq --limit 100 --report "$tmp/fx.json" \
  >"$tmp/o" 2>"$tmp/e"; rc=$?
steps=$(grep -o '"steps": [0-9]*' "$tmp/fx.json" 2>/dev/null | awk '{print $2}')
if [ $rc -eq 0 ] && [ "$steps" = 24 ] && grep -q "fixes its batch to 1; fine-tuning runs it at batch 64" "$tmp/e"
then ok "fixed-batch export fine-tunes at batch 64 ($steps steps)"
else bad "fixed-batch export" "exit $rc, steps '$steps': $(grep -m2 'sq:' "$tmp/e")"; fi
# ... and one that cannot run at another batch (a Reshape to a constant [1, 784]) trains at
# its own batch, with a note: 768 images, 1+1 epochs, batch 1 = 1536 steps
cat >"$tmp/fixed.ir" <<'IR'
graph @fixed opset 13 {
  input %input: f32[1,1,28,28]
  const %shape: i64[2] = [1,784]
  const %w: f32[784,10] = dense<7840 elements>
  const %b: f32[10] = dense<10 elements>
  %f: f32[?] = Reshape(%input, %shape) @"flat"
  %y: f32[?] = Gemm(%f, %w, %b) @"fc"
  output %y
}
IR
"$sqc" "$tmp/fixed.ir" --config "$cfg" --quant=twn --act-bits 32 --report "$tmp/fr.json" \
  --emit=ir -o /dev/null >"$tmp/o" 2>"$tmp/e"; rc=$?
steps=$(grep -o '"steps": [0-9]*' "$tmp/fr.json" 2>/dev/null | awk '{print $2}')
if [ $rc -eq 0 ] && [ "$steps" = 1536 ] && grep -q "does not run at batch 64" "$tmp/e"
then ok "fixed-batch model that cannot change its batch: trains at 1, with a note"
else bad "fixed batch, no change" "exit $rc, steps '$steps': $(grep -m2 'sq:' "$tmp/e")"; fi
# Concat, Transpose, Pad, PRelu, Div and a mid-model Softmax fine-tune (two branches joined
# on channels, the first also feeding the second, so its gradient sums both; a round trip
# through channels-last): the loss falls from epoch 1 to epoch 2
cat >"$tmp/cat.ir" <<'IR'
graph @cat opset 13 {
  input %input: f32[1,1,28,28]
  const %w1: f32[8,1,5,5] = dense<200 elements>
  const %w2: f32[8,8,1,1] = dense<64 elements>
  const %w3: f32[16,10] = dense<160 elements>
  const %pads: i64[8] = [0,0,1,1,0,0,1,1]
  const %slope: f32[8,1,1] = [0.1,0.2,0.1,0.2,0.1,0.2,0.1,0.2]
  const %two: f32[1] = [2]
  %p: f32[?] = Pad(%input, %pads) {mode="reflect"} @"pad"
  %c: f32[?] = Conv(%p, %w1) {kernel_shape=[5,5], strides=[2,2]} @"conv1"
  %r0: f32[?] = PRelu(%c, %slope) @"prelu1"
  %r: f32[?] = Pad(%r0, %pads) @"pad2"
  %d: f32[?] = Conv(%r, %w2) {kernel_shape=[1,1]} @"conv2"
  %s: f32[?] = Sigmoid(%d) @"sig"
  %k: f32[?] = Concat(%r, %s) {axis=1} @"cat"
  %t: f32[?] = Transpose(%k) {perm=[0,2,3,1]} @"nhwc"
  %u: f32[?] = Transpose(%t) {perm=[0,3,1,2]} @"nchw"
  %g: f32[?] = GlobalAveragePool(%u) @"gap"
  %sm: f32[?] = Softmax(%g) {axis=1} @"attn"
  %gs: f32[?] = Mul(%g, %sm) @"gate"
  %h: f32[?] = Div(%gs, %two) @"half"
  %f: f32[?] = Flatten(%h) @"flat"
  %y: f32[?] = Gemm(%f, %w3) @"fc"
  output %y
}
IR
"$sqc" "$tmp/cat.ir" --config "$cfg" --quant=twn --emit=ir -o /dev/null >"$tmp/o" 2>"$tmp/e"; rc=$?
l1=$(sed -n 's/^sq: epoch 1\/2 .* loss \([0-9.]*\) .*/\1/p' "$tmp/e")
l2=$(sed -n 's/^sq: epoch 2\/2 .* loss \([0-9.]*\) .*/\1/p' "$tmp/e")
# the same model without the round trip trains to the same losses (the transposes and
# their backward are exact inverses)
grep -v 'Transpose' "$tmp/cat.ir" | sed 's/GlobalAveragePool(%u)/GlobalAveragePool(%k)/' >"$tmp/cat0.ir"
"$sqc" "$tmp/cat0.ir" --config "$cfg" --quant=twn --emit=ir -o /dev/null >"$tmp/o" 2>"$tmp/e0"
m2=$(sed -n 's/^sq: epoch 2\/2 .* loss \([0-9.]*\) .*/\1/p' "$tmp/e0")
if [ $rc -eq 0 ] && [ -n "$l1" ] && [ -n "$l2" ] && [ "$l2" = "$m2" ] &&
   awk -v a="$l1" -v b="$l2" 'BEGIN {exit !(b < a)}'
then ok "Concat, Transpose, Pad, PRelu, Div, Softmax fine-tune (loss $l1 -> $l2, the same without the transposes)"
else bad "Concat/Transpose fine-tuning" "exit $rc, losses '$l1' '$l2' (without: '$m2'): $(tail -2 "$tmp/e")"; fi
echo "sq: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
