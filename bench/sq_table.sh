#!/usr/bin/env bash
# Reproduces the paper's Table 1 on Fashion-MNIST: for each model, fine-tunes from the
# float fixture with FP (float fine-tuning), BC, BWN, TWN and SQ, plus SQ with 8- and
# 2-bit activations, and prints a Markdown table (bits per layer, compression by the
# paper's formula, packed bytes, top-1 on the 10k test images, fine-tuning time).
#   bench/sq_table.sh [MODEL...]          default: lenet5 vgg7s
# Settings (epochs, lambda, gamma, ...) come from models/MODEL.yaml (sq: section), or from
# bench/sq_table.MODEL.yaml when it exists (vgg7s: a training subset, see that file).
# Environment: SQC (default build/sqc), OUT (a folder for the JSON reports).
set -euo pipefail
cd "$(dirname "$0")/.."
sqc=${SQC:-build/sqc}
out=${OUT:-$(mktemp -d)}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(lenet5 vgg7s)
[ -x "$sqc" ] || { echo "build sqc first (scripts/main.sh or cmake)"; exit 1; }
# Every row but the last two keeps activations in float (the paper's setting).
rows=("FP|--quant=none --finetune" "BC|--quant=bc --act-bits=32" "BWN|--quant=bwn --act-bits=32"
      "TWN|--quant=twn --act-bits=32"
      "SQ|--quant=sq --act-bits=32" "SQ, act 8 bits|--quant=sq --act-bits=8"
      "SQ, act 2 bits|--quant=sq --act-bits=2")
for m in "${models[@]}"; do
  cfg=models/$m.yaml
  [ -f "bench/sq_table.$m.yaml" ] && cfg=bench/sq_table.$m.yaml
  echo
  echo "### $m (config $cfg, $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "| method | bits per layer | compression | packed bytes | top-1 | fine-tuning |"
  echo "|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do
    name=${r%%|*}; flags=${r#*|}
    tag=$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$sqc" eval "models/$m.onnx" --config "$cfg" $flags -q \
      --report "$out/$m.$tag.json" >"$out/$m.$tag.out" 2>"$out/$m.$tag.err" || {
      echo "| $name | failed: $(tail -1 "$out/$m.$tag.err") | | | | |"; continue; }
    secs=$(( $(date +%s) - start ))
    j="$out/$m.$tag.json"
    bits=$(grep -o '"bits": [0-9]*' "$j" | awk '{print $2}' | paste -sd- -)
    ratio=$(sed -n 's/.*"compression_ratio": \([0-9.e+-]*\).*/\1/p' "$j")
    bytes=$(sed -n 's/.*"packed_weight_bytes": \([0-9]*\).*/\1/p' "$j")
    acc=$(sed -n 's/^accuracy: \([0-9.]*\) .*/\1/p' "$out/$m.$tag.out")
    fa=$(sed -n 's/^float accuracy: \([0-9.]*\) .*/\1/p' "$out/$m.$tag.out")
    printf '| %s | %s | %.1fx | %s | %.2f | %d s |\n' "$name" "$bits" "$ratio" "$bytes" \
      "$(awk -v a="$acc" 'BEGIN{print 100*a}')" "$secs"
  done
  echo
  echo "Float model before fine-tuning: top-1 $(awk -v a="$fa" 'BEGIN{printf "%.2f", 100*a}') (\`sqc eval models/$m.onnx --config models/$m.yaml\`)."
done
echo
echo "Reports: $out"
