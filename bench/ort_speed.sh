#!/usr/bin/env bash
# One-thread, batch-1 latency of compiled models against ONNX Runtime's CPU build, float
# and int8 (issue 11's comparison), alternating rounds, medians.
#   bench/ort_speed.sh [SQC] [ROUNDS] [IMAGES]     (defaults: build/sqc 5 300)
# Installs onnxruntime-node@1.20.1 from the npm registry into $ORT_DIR (default
# ~/.cache/sqc-ort) the first time: a bench setup step, never part of the build or tests.
# Variants of VGG-7-small: the float .so, and SQ/TWN/BWN fine-tuned briefly on
# tests/configs/sq_tiny.yaml (the speed does not depend on how long one fine-tunes) at the
# given activation bits, each at the default kernel level (x86-64-v3) and with
# --mcpu=native (suffix @native). VARIANTS (environment) picks some.
# ONNX Runtime runs models/vgg7s.onnx (float) and its int8 QDQ copy, which
# bench/qdq_model.py writes once into the temp dir (BatchNorm folded, per-channel int8
# weights, uint8 activations calibrated on 256 Fashion-MNIST training images, or uniform
# random inputs without the data set; ORT fuses it into QLinearConv/QGemm). That needs a
# Python 3 with numpy and onnx ($PYTHON, else /usr/bin/python3, else python3; Debian:
# python3-onnx); without one the int8 row is skipped with a message.
# Prints us/image per variant, ORT float / variant and ORT int8 / variant (> 1: faster
# than ONNX Runtime).
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
int8=""; why="no python3 with numpy and onnx (apt-get install python3-onnx, or set PYTHON)"
for py in ${PYTHON:-} /usr/bin/python3 python3; do
	if "$py" -c 'import numpy, onnx' 2>/dev/null; then
		why="bench/qdq_model.py failed"
		! "$py" "$root/bench/qdq_model.py" "$model" "$tmp/int8.onnx" || int8=$tmp/int8.onnx
		break
	fi
done
[ -n "$int8" ] || echo "ort_speed.sh: $why: skipping ONNX Runtime int8 (the ort_int8 row)" >&2
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
	[ -z "$int8" ] || echo "ort_int8 $(node "$root/bench/ort_speed.js" "$int8" "$n" | awk '{print $2}')"
	for v in $variants; do
		echo "$v $("$tmp/so_speed" "$tmp/$v.so" m "$n" | awk '{print $2}')"
	done
done >"$tmp/times"
median() { grep "^$1 " "$tmp/times" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ort=$(median ort); o8=-
[ -z "$int8" ] || o8=$(median ort_int8)
ratio() { [ "$1" = - ] && echo - || awk -v o="$1" -v m="$2" 'BEGIN {printf "%.2f", o / m}'; }
printf '%-10s %10s %12s %12s\n' variant us/image "x ORT float" "x ORT int8"
printf '%-10s %10s %12s %12s\n' ort_float "$ort" 1.00 "$(ratio "$o8" "$ort")"
[ -z "$int8" ] || printf '%-10s %10s %12s %12s\n' ort_int8 "$o8" "$(ratio "$ort" "$o8")" 1.00
for v in $variants; do
	m=$(median "$v")
	printf '%-10s %10s %12s %12s\n' "sqc_$v" "$m" "$(ratio "$ort" "$m")" "$(ratio "$o8" "$m")"
done
