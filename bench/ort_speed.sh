#!/usr/bin/env bash
# One-thread, batch-1 latency of compiled models against ONNX Runtime's float CPU build
# (issue 11's comparison), alternating rounds, medians.
#   bench/ort_speed.sh [SQC] [ROUNDS] [IMAGES]     (defaults: build/sqc 5 300)
# Installs onnxruntime-node@1.20.1 from the npm registry into $ORT_DIR (default
# ~/.cache/sqc-ort) the first time: a bench setup step, never part of the build or tests.
# Variants of VGG-7-small: the float .so, and SQ/TWN/BWN fine-tuned briefly on
# tests/configs/sq_tiny.yaml (the speed does not depend on how long one fine-tunes) at the
# given activation bits, each at the default kernel level (x86-64-v3) and with
# --mcpu=native (suffix @native). VARIANTS (environment) picks some. Prints us/image per
# variant and ORT float / variant (> 1: faster than ONNX Runtime).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sqc=$(realpath "${1:-$root/build/sqc}"); rounds=${2:-5}; n=${3:-300}
export ORT_DIR=${ORT_DIR:-$HOME/.cache/sqc-ort}
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
	mkdir -p "$ORT_DIR"
	(cd "$ORT_DIR" && npm install --ignore-scripts onnxruntime-node@1.20.1 >/dev/null)
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/so_speed" "$root/bench/so_speed.c" -ldl
model=$root/models/vgg7s.onnx; tiny=$root/tests/configs/sq_tiny.yaml
variants=${VARIANTS:-"float twn_a8 twn_a2 twn_a1 sq_a8 sq_a2 bwn_a2 bwn_a1 float@native
twn_a8@native twn_a2@native twn_a1@native sq_a8@native sq_a2@native bwn_a2@native bwn_a1@native"}
for v in $variants; do
	b=${v%@*}; cpu=()
	[ "$b" = "$v" ] || cpu=(--mcpu="${v#*@}")
	case $b in
	float) "$sqc" "$model" "${cpu[@]}" --name m -o "$tmp/$v.so" -q ;;
	*) "$sqc" "$model" "${cpu[@]}" --name m --config "$tiny" --quant="${b%_a*}" --act-bits "${b#*_a}" -o "$tmp/$v.so" -q ;;
	esac
done
for r in $(seq "$rounds"); do
	echo "ort $(node "$root/bench/ort_speed.js" "$model" "$n" | awk '{print $2}')"
	for v in $variants; do
		echo "$v $("$tmp/so_speed" "$tmp/$v.so" m "$n" | awk '{print $2}')"
	done
done >"$tmp/times"
median() { grep "^$1 " "$tmp/times" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ort=$(median ort)
printf '%-10s %10s %14s\n' variant us/image "x ORT float"
printf '%-10s %10s %14s\n' ort_float "$ort" 1.00
for v in $variants; do
	m=$(median "$v")
	printf '%-10s %10s %14s\n' "sqc_$v" "$m" "$(awk -v o="$ort" -v m="$m" 'BEGIN {printf "%.2f", o / m}')"
done
