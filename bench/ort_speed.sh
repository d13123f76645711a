#!/usr/bin/env bash
# One-thread, batch-1 latency of compiled models against ONNX Runtime's CPU build, float
# and int8 (issue 11's comparison), alternating rounds, medians.
#   bench/ort_speed.sh [SQC] [ROUNDS] [IMAGES]     (defaults: build/sqc 5 300)
# Installs onnxruntime-node@1.20.1 from the npm registry into $ORT_DIR (default
# ~/.cache/sqc-ort) the first time: a bench setup step, never part of the build or tests.
# MODELS (environment, default "lenet5 vgg7s resnet") picks the models: lenet5 and vgg7s
# are models/NAME.onnx, resnet is the residual network that bench/resnet_model.py writes
# once into the temp dir (random weights; needs the Python below), and a path to an .onnx
# file with input [N, 1, 28, 28] works too. Variants of each model: the float .so, and
# SQ/TWN/BWN fine-tuned briefly on tests/configs/sq_tiny.yaml (the speed does not depend on
# how long one fine-tunes) at the given activation bits, each at the default kernel level
# (x86-64-v3) and with --mcpu=native (suffix @native). VARIANTS (environment) picks some.
# ONNX Runtime runs each model (float) and its int8 QDQ copy, which bench/qdq_model.py
# writes once into the temp dir (BatchNorm folded, per-channel int8 weights, uint8
# activations calibrated on 256 Fashion-MNIST training images, or uniform random inputs
# without the data set; ORT fuses it into QLinearConv/QGemm). That needs a Python 3 with
# numpy and onnx ($PYTHON, else /usr/bin/python3, else python3; Debian: python3-onnx);
# without one, or for a model qdq_model.py cannot convert, it says so and the ort_int8 row
# and the x ORT int8 column show "-".
# Each round times every model in turn (ORT float, ORT int8, the variants), so the models
# and variants alternate. Prints one table per model (with a heading line when MODELS names
# more than one): us/image per variant, ORT float / variant and ORT int8 / variant (> 1:
# faster than ONNX Runtime).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sqc=$(realpath "${1:-$root/build/sqc}"); rounds=${2:-5}; n=${3:-300}
. "$root/bench/ort_setup.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread -I "$root/examples" -o "$tmp/so_speed" "$root/bench/so_speed.c" "$root/examples/sqc_pool.c" -ldl
tiny=$root/tests/configs/sq_tiny.yaml
py=""
for p in ${PYTHON:-} /usr/bin/python3 python3; do
	if "$p" -c 'import numpy, onnx' 2>/dev/null; then py=$p; break; fi
done
nopy="no python3 with numpy and onnx (apt-get install python3-onnx, or set PYTHON)"
variants=${VARIANTS:-"float twn_a8 twn_a2 twn_a1 sq_a8 sq_a2 bwn_a2 bwn_a1 float@native
twn_a8@native twn_a2@native twn_a1@native sq_a8@native sq_a2@native bwn_a2@native bwn_a1@native"}
models=()
for name in ${MODELS:-lenet5 vgg7s resnet}; do
	case $name in
	resnet)
		[ -n "$py" ] || { echo "ort_speed.sh: $nopy: skipping resnet" >&2; continue; }
		"$py" "$root/bench/resnet_model.py" "$tmp/resnet.onnx"
		model=$tmp/resnet.onnx ;;
	*.onnx) model=$(realpath "$name"); name=$(basename "$name" .onnx) ;;
	*) model=$root/models/$name.onnx ;;
	esac
	[ -f "$model" ] || { echo "ort_speed.sh: no $model" >&2; exit 1; }
	mkdir -p "$tmp/$name"; ln -sf "$model" "$tmp/$name/model.onnx"
	models+=("$name")
	if [ -z "$py" ]; then
		echo "ort_speed.sh: $nopy: skipping ONNX Runtime int8 (the ort_int8 row) for $name" >&2
	elif ! "$py" "$root/bench/qdq_model.py" "$model" "$tmp/$name/int8.onnx"; then
		rm -f "$tmp/$name/int8.onnx"
		echo "ort_speed.sh: bench/qdq_model.py failed: skipping ONNX Runtime int8 (the ort_int8 row) for $name" >&2
	fi
	for v in $variants; do
		b=${v%@*}; cpu=()
		[ "$b" = "$v" ] || cpu=(--mcpu="${v#*@}")
		case $b in
		float) "$sqc" "$model" "${cpu[@]}" --name m -o "$tmp/$name/$v.so" -q ;;
		*) "$sqc" "$model" "${cpu[@]}" --name m --config "$tiny" --quant="${b%_a*}" --act-bits "${b#*_a}" -o "$tmp/$name/$v.so" -q ;;
		esac
	done
done
[ ${#models[@]} -gt 0 ] || { echo "ort_speed.sh: no models to time" >&2; exit 1; }
for r in $(seq "$rounds"); do
	for name in "${models[@]}"; do
		d=$tmp/$name
		echo "$name ort $(node "$root/bench/ort_speed.js" "$d/model.onnx" "$n" | awk '{print $2}')"
		[ ! -f "$d/int8.onnx" ] || echo "$name ort_int8 $(node "$root/bench/ort_speed.js" "$d/int8.onnx" "$n" | awk '{print $2}')"
		for v in $variants; do
			echo "$name $v $("$tmp/so_speed" "$d/$v.so" m "$n" | awk '{print $2}')"
		done
	done
done >"$tmp/times"
median() { awk -v m="$1" -v k="$2" '$1 == m && $2 == k {print $3}' "$tmp/times" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { [ "$1" = - ] || [ "$2" = - ] && echo - || awk -v o="$1" -v m="$2" 'BEGIN {printf "%.2f", o / m}'; }
first=1
for name in "${models[@]}"; do
	if [ ${#models[@]} -gt 1 ]; then
		[ $first = 1 ] || echo
		echo "== $name"
	fi
	first=0
	ort=$(median "$name" ort); o8=-
	[ ! -f "$tmp/$name/int8.onnx" ] || o8=$(median "$name" ort_int8)
	printf '%-10s %10s %12s %12s\n' variant us/image "x ORT float" "x ORT int8"
	printf '%-10s %10s %12s %12s\n' ort_float "$ort" 1.00 "$(ratio "$o8" "$ort")"
	printf '%-10s %10s %12s %12s\n' ort_int8 "$o8" "$(ratio "$ort" "$o8")" "$([ "$o8" = - ] && echo - || echo 1.00)"
	for v in $variants; do
		m=$(median "$name" "$v")
		printf '%-10s %10s %12s %12s\n' "sqc_$v" "$m" "$(ratio "$ort" "$m")" "$(ratio "$o8" "$m")"
	done
done
