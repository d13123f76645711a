#!/usr/bin/env bash
# scripts/golden.sh SQC OUTDIR: a fixed set of outputs (LeNet-5, VGG-7-small and the
# fixtures of tests/models in float, LeNet-5 fine-tuned with SQ at several activation
# widths and with the baselines; LLVM IR for x86 and AArch64, reports, saved models, IR
# dumps)
# to compare byte for byte across a refactor: run it with the binary before and after,
# then diff -r the two folders (training times are masked in the reports).
set -euo pipefail
sqc=$(realpath "$1"); out=$2; src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"; cd "$out"
tiny=$src/tests/configs/sq_tiny.yaml
"$sqc" $src/models/lenet5.onnx -o f.ll -q
"$sqc" $src/models/vgg7s.onnx -o v.ll -q
"$sqc" $src/models/lenet5.onnx --target aarch64-linux-gnu -o fa.ll -q
mkdir -p fixtures
for m in "$src"/tests/models/*.onnx; do
  b=$(basename "$m" .onnx)
  (cd fixtures && "$sqc" "$m" -o "$b.ll" -q && "$sqc" "$m" --target aarch64-linux-gnu -o "${b}_arm.ll" -q)
done
for b in 2 8 32 1; do
  "$sqc" $src/models/lenet5.onnx --config $tiny --quant=sq --act-bits $b --save-onnx q$b.onnx --report q$b.json -q || echo "act $b failed"
  "$sqc" q$b.onnx -o q$b.ll -q || true
  "$sqc" q$b.onnx --target aarch64-linux-gnu -o q${b}a.ll -q || true
  "$sqc" q$b.onnx --emit=ir --print-after-all -q 2> q$b.ir.txt >/dev/null || true
done
for m in twn bwn bc; do "$sqc" $src/models/lenet5.onnx --config $tiny --quant=$m --act-bits 2 -o $m.ll --report $m.json -q; done
"$sqc" eval $src/models/lenet5.onnx --config $tiny --quant=sq -q > evalq.txt 2>&1 || true
sed -i 's/"seconds": [0-9.e+-]*/"seconds": X/; s/"images_per_second": [0-9.e+-]*/"images_per_second": X/' *.json
