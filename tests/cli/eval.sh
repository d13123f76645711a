#!/usr/bin/env bash
# `sqc eval` on every bundled model (models/*.onnx with its .yaml) reproduces the test
# accuracy PyTorch recorded in the config ("# pytorch_accuracy: 0.XXXX (N/M)") to 0.0005,
# and bad data inputs are clear errors.
#   eval.sh SQC SOURCE_DIR
set -u
sqc=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1: $2"; }
for m in "$src"/models/*.onnx; do
  y=${m%.onnx}.yaml; n=$(basename "${m%.onnx}")
  want=$(sed -n 's/^# pytorch_accuracy: \([0-9.]*\).*/\1/p' "$y")
  [ -n "$want" ] || { bad "$n" "no '# pytorch_accuracy:' line in $y"; continue; }
  got=$("$sqc" eval "$m" --config "$y" -q | sed -n 's/^accuracy: \([0-9.]*\) .*/\1/p')
  if [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 0.0005)}'; then
    ok "$n: sqc eval $got, PyTorch $want"
  else bad "$n" "sqc eval '$got', PyTorch $want"; fi
done
# bad data: missing file, truncated file, images that do not fit the model, labels out of range
m=$src/models/lenet5.onnx
printf 'data:\n  root: %s\n  test: {images: nope.gz, labels: nope-labels.gz}\n' "$tmp" >"$tmp/missing.yaml"
head -c 5000 /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz >"$tmp/trunc.gz" 2>/dev/null
cp /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz "$tmp/labels.gz" 2>/dev/null
printf 'data:\n  root: %s\n  test: {images: trunc.gz, labels: labels.gz}\n  classes: 10\n' "$tmp" >"$tmp/trunc.yaml"
printf 'data:\n  classes: 5\n' >"$tmp/classes.yaml"
for c in missing:cannot trunc:truncated classes:range; do
  f=${c%%:*}; w=${c#*:}
  "$sqc" eval "$m" --config "$tmp/$f.yaml" >"$tmp/o" 2>"$tmp/e"; rc=$?
  if [ $rc -eq 1 ] && grep -q "^sqc: error: " "$tmp/e" && grep -qi "$w" "$tmp/e"; then ok "bad data ($f): $(head -1 "$tmp/e")"
  else bad "bad data ($f)" "exit $rc: $(cat "$tmp/e")"; fi
done
"$sqc" eval "$src/tests/models/misc_ops_op13.onnx" --config "$src/models/lenet5.yaml" >"$tmp/o" 2>"$tmp/e"; rc=$?
[ $rc -eq 1 ] && grep -q "shape" "$tmp/e" && ok "images that do not fit the model" || bad "misfit" "exit $rc: $(cat "$tmp/e")"
echo "eval: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
