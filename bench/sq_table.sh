#!/usr/bin/env bash
# Reproduces the paper's Table 1 on Fashion-MNIST: for each model, fine-tunes from the
# float fixture with FP (float fine-tuning), BC, BWN, TWN and SQ, plus SQ with 8- and
# 2-bit activations, and prints a Markdown table (bits per layer, compression by the
# paper's formula, packed bytes, top-1 on the 10k test images, fine-tuning time).
#   bench/sq_table.sh [MODEL...]          default: lenet5 vgg7s
# Settings (epochs, lambda, gamma, ...) come from models/MODEL.yaml (sq: section), or from
# bench/sq_table.MODEL.yaml when it exists (vgg7s: a training subset, see that file).
# Environment: SQC (default build/sqc), OUT (a folder for the JSON reports), SEEDS (the
# --seed values, default "1"; with several, top-1 is their mean and the per-seed values
# follow it, and the bits column lists each seed's decisions when they differ).
set -euo pipefail
cd "$(dirname "$0")/.."
sqc=${SQC:-build/sqc}
out=${OUT:-$(mktemp -d)}
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(lenet5 vgg7s)
read -r -a seeds <<<"${SEEDS:-1}"
[ ${#seeds[@]} -gt 0 ] || seeds=(1)
[ -x "$sqc" ] || { echo "build sqc first (scripts/main.sh or cmake)"; exit 1; }
# Every row but the last two keeps activations in float (the paper's setting).
rows=("FP|--quant=none --finetune" "BC|--quant=bc --act-bits=32" "BWN|--quant=bwn --act-bits=32"
      "TWN|--quant=twn --act-bits=32"
      "SQ|--quant=sq --act-bits=32" "SQ, act 8 bits|--quant=sq --act-bits=8"
      "SQ, act 2 bits|--quant=sq --act-bits=2")
for m in "${models[@]}"; do
  cfg=models/$m.yaml
  [ -f "bench/sq_table.$m.yaml" ] && cfg=bench/sq_table.$m.yaml
  fa=
  echo
  echo "### $m (config $cfg, $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  [ ${#seeds[@]} -gt 1 ] && echo "Seeds ${seeds[*]}: top-1 is their mean (then each seed's); packed bytes of seed ${seeds[0]}; fine-tuning time per run." && echo
  echo "| method | bits per layer | compression | packed bytes | top-1 | fine-tuning |"
  echo "|---|---|---|---|---|---|"
  for r in "${rows[@]}"; do
    name=${r%%|*}; flags=${r#*|}
    tag=$(echo "$name" | tr -c 'A-Za-z0-9\n' '_')
    start=$(date +%s)
    accs=(); ratios=(); allbits=(); failed=; rc=0
    for seed in "${seeds[@]}"; do
      base="$out/$m.$tag.s$seed"
      # shellcheck disable=SC2086
      "$sqc" eval "models/$m.onnx" --config "$cfg" $flags --seed "$seed" -q \
        --report "$base.json" >"$base.out" 2>"$base.err" || rc=$?
      if [ "$rc" -ne 0 ]; then failed=$(tail -1 "$base.err"); failed=${failed:-exit status $rc}; break; fi
      j="$base.json"
      b=$(grep -o '"bits": [0-9]*' "$j" | awk '{print $2}' | paste -sd- -)
      case " ${allbits[*]} " in *" $b "*) ;; *) allbits+=("$b") ;; esac
      accs+=("$(sed -n 's/^accuracy: \([0-9.]*\) .*/\1/p' "$base.out")")
      ratios+=("$(sed -n 's/.*"compression_ratio": \([0-9.e+-]*\).*/\1/p' "$j")")
      fa=$(sed -n 's/^float accuracy: \([0-9.]*\) .*/\1/p' "$base.out")
    done
    if [ -n "$failed" ]; then echo "| $name | failed: $failed | | | | |"; continue; fi
    secs=$(( ($(date +%s) - start) / ${#seeds[@]} ))
    # compression: its range over the seeds; bytes of the first seed
    ratio=$(printf '%s\n' "${ratios[@]}" | awk 'NR == 1 || $1 < lo {lo = $1} NR == 1 || $1 > hi {hi = $1}
      END {a = sprintf("%.2fx", lo); b = sprintf("%.2fx", hi); print (a == b ? a : a " to " b)}')
    bytes=$(sed -n 's/.*"packed_weight_bytes": \([0-9]*\).*/\1/p' "$out/$m.$tag.s${seeds[0]}.json")
    top1=$(printf '%s\n' "${accs[@]}" | awk '{s += $1; v = v (NR > 1 ? " / " : "") sprintf("%.2f", 100 * $1)}
      END {if (NR > 1) printf "%.2f (%s)", 100 * s / NR, v; else printf "%.2f", 100 * s}')
    bits=$(IFS=,; echo "${allbits[*]}" | sed 's/,/, /g')
    printf '| %s | %s | %s | %s | %s | %d s |\n' "$name" "$bits" "$ratio" "$bytes" "$top1" "$secs"
  done
  echo
  echo "Float model before fine-tuning: top-1 $([ -n "$fa" ] && awk -v a="$fa" 'BEGIN{printf "%.2f", 100*a}' || echo n/a) (\`sqc eval models/$m.onnx --config models/$m.yaml\`)."
done
echo
echo "Reports: $out"
