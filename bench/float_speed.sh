#!/usr/bin/env bash
# Float batch-1 latency of sqc's compiled models against ONNX Runtime's CPU build, at one
# and two threads (issue 13), alternating rounds, medians.
#   bench/float_speed.sh [SQC] [ROUNDS] [N]      (defaults: build/sqc 5, N per model)
# Models (MODELS, environment; default "resnet18_224 resnet18_cifar mobilenet_v2
# squeezenet1_1 vgg7s lenet5"): the torchvision ones (untrained, seeded; input 1x3x224x224,
# resnet18_cifar 1x3x32x32 with 10 classes) that bench/float_models.py exports once into
# $FLOAT_MODELS_DIR (default ~/.cache/sqc-float-models; needs a Python 3 with torch and
# torchvision: $PYTHON, else /usr/bin/python3, else python3; Debian python3-torch and
# python3-torchvision), and models/vgg7s.onnx, models/lenet5.onnx (1x1x28x28).
# Variants of each model, every one in every round: ONNX Runtime float (bench/ort_speed.js,
# onnxruntime-node 1.20.1 installed by bench/ort_setup.sh, graph optimizations on) with 1
# and 2 intra-op threads; sqc's float .so at the default level (`sqc M.onnx --name m -o
# x.so -q`, x86-64-v3) and with --mcpu=native, each timed by bench/so_speed.c at 1 thread
# (NAME_run) and 2 threads (NAME_run_parallel on examples/sqc_pool.c). A .so without
# NAME_run_parallel (an sqc from before it) gets no 2-thread rows, with a note.
# N: images per timing; without it the script times 5 images of the default .so once per
# model and picks N so that one timing takes about TARGET_S seconds (environment, 0.5),
# at least 3 and at most 2000.
# Prints per model: us/image (median over the rounds), x ORT float = ONNX Runtime's time at
# the same thread count over the variant's (> 1: faster than ONNX Runtime), and for the
# 2-thread rows x 1t = the same variant's 1-thread time over its 2-thread time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sqc=$(realpath "${1:-$root/build/sqc}"); rounds=${2:-5}; n_arg=${3:-}
. "$root/bench/ort_setup.sh"
cache=${FLOAT_MODELS_DIR:-$HOME/.cache/sqc-float-models}
target=${TARGET_S:-0.5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread -I "$root/examples" -o "$tmp/so_speed" "$root/bench/so_speed.c" "$root/examples/sqc_pool.c" -ldl
load() { cut -d' ' -f1 /proc/loadavg; }
load0=$(load)
py=""
for p in ${PYTHON:-} /usr/bin/python3 python3; do
	if "$p" -c 'import torch, torchvision' 2>/dev/null; then py=$p; break; fi
done
# name -> input shape of bench/float_models.py's models (--list needs no torch)
declare -A shape
while read -r name s; do shape[$name]=$s; done < <(python3 "$root/bench/float_models.py" --list)
declare -A nimg par
models=()
for name in ${MODELS:-resnet18_224 resnet18_cifar mobilenet_v2 squeezenet1_1 vgg7s lenet5}; do
	case $name in
	lenet5 | vgg7s)
		model=$root/models/$name.onnx; shape[$name]=1,1,28,28 ;;
	*)
		[ -n "${shape[$name]:-}" ] || { echo "float_speed.sh: unknown model $name" >&2; exit 1; }
		model=$cache/$name.onnx
		if [ ! -f "$model" ]; then
			[ -n "$py" ] || { echo "float_speed.sh: no $model and no python3 with torch and torchvision to export it (apt-get install python3-torch python3-torchvision, or set PYTHON)" >&2; exit 1; }
			"$py" "$root/bench/float_models.py" "$cache" "$name"
		fi ;;
	esac
	[ -f "$model" ] || { echo "float_speed.sh: no $model" >&2; exit 1; }
	d=$tmp/$name; mkdir -p "$d"; ln -sf "$model" "$d/model.onnx"
	"$sqc" "$model" --name m -o "$d/float.so" -q
	"$sqc" "$model" --mcpu=native --name m -o "$d/native.so" -q
	par[$name]=1
	for v in float native; do
		if ! "$tmp/so_speed" "$d/$v.so" m 1 2 >/dev/null 2>"$d/probe"; then
			grep -q 'lacks m_run_parallel' "$d/probe" || { cat "$d/probe" >&2; exit 1; }
			par[$name]=0
		fi
	done
	if [ -n "$n_arg" ]; then
		nimg[$name]=$n_arg
	else
		us=$("$tmp/so_speed" "$d/float.so" m 5 | awk '{print $2}')
		nimg[$name]=$(awk -v t="$target" -v us="$us" 'BEGIN {n = int(t * 1e6 / us); print (n < 3 ? 3 : (n > 2000 ? 2000 : n))}')
	fi
	models+=("$name")
done
[ ${#models[@]} -gt 0 ] || { echo "float_speed.sh: no models to time" >&2; exit 1; }
for r in $(seq "$rounds"); do
	for name in "${models[@]}"; do
		d=$tmp/$name; n=${nimg[$name]}
		for t in 1 2; do
			us=$(node "$root/bench/ort_speed.js" "$d/model.onnx" "$n" "$t" "${shape[$name]}" | awk '{print $2}')
			echo "$name ort_float_${t}t $us"
		done
		for v in float native; do
			for t in 1 2; do
				[ "$t" = 1 ] || [ "${par[$name]}" = 1 ] || continue
				us=$("$tmp/so_speed" "$d/$v.so" m "$n" "$t" | awk '{print $2}')
				echo "$name sqc_${v}_${t}t $us"
			done
		done
	done
done >"$tmp/times"
median() { awk -v m="$1" -v k="$2" '$1 == m && $2 == k {print $3}' "$tmp/times" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
first=1
for name in "${models[@]}"; do
	[ $first = 1 ] || echo
	first=0
	echo "== $name (input ${shape[$name]}, $rounds rounds of ${nimg[$name]} images)"
	printf '%-16s %10s %12s %8s\n' variant us/image "x ORT float" "x 1t"
	for v in ort_float sqc_float sqc_native; do
		for t in 1 2; do
			[ "$t" = 1 ] || [ "$v" = ort_float ] || [ "${par[$name]}" = 1 ] || continue
			m=$(median "$name" "${v}_${t}t")
			x1=""; [ "$t" = 1 ] || x1=$(ratio "$(median "$name" "${v}_1t")" "$m")
			printf '%-16s %10s %12s %8s\n' "${v}_${t}t" "$m" "$(ratio "$(median "$name" "ort_float_${t}t")" "$m")" "$x1"
		done
	done
	[ "${par[$name]}" = 1 ] || echo "note: the .so files lack m_run_parallel (an sqc without the parallel entry points): no sqc 2-thread rows"
done
echo
echo "x ORT float: ONNX Runtime's time at the same thread count over the variant's (> 1: faster); x 1t: the variant's 1-thread time over its 2-thread time"
echo "load average (1 min): $load0 at start, $(load) at end"
