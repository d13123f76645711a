#!/usr/bin/env bash
# Every weight x activation width compiles and equals the interpreter (issue 11, item 1):
# LeNet-5 (first layer a Conv on the signed image, Gemm after Flatten, last layer a Gemm)
# fine-tuned briefly with 1-bit (BWN) and 2-bit (TWN) weights at activation bits 1..8;
# each .so's scores on 200 test images equal the interpreter's bit for bit, and two of
# the combinations also as AArch64 objects under qemu (the example app). Then VGG-7-small
# (bit-serial 3x3 convolutions) with W1/W2 x A1/A2, one of them also on AArch64. The
# kernel levels: some combinations again with --mcpu=znver4 (AVX-512 VNNI/VPOPCNTDQ kernels)
# and --mcpu=alderlake (AVX-VNNI), each run when this CPU has them and, on AArch64, --mcpu=neoverse-n1 (SDOT); the default
# x86-64-v3 .so holds no AVX-512 instruction.
#   matrix.sh SQC DATASET NPYCMP SOURCE_DIR
set -euo pipefail
sqc=$1 dataset=$2 npycmp=$3 src=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
model=$src/models/lenet5.onnx
printf 'sq:\n  train_limit: 128\n  epochs: 1\n  recovery_epochs: 0\n  batch: 64\n' >mini.yaml
"$dataset" dump "$src/models/lenet5.yaml" 200 x.npy y.npy
cross=1
command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || cross=0
# NAME.onnx as an AArch64 object in the example app under qemu: scores on INPUT equal
# NAME.ref.npy bit for bit
arm_check() {
	local name=$1 input=$2 mcpu=${3:-generic}
	"$sqc" "$name.onnx" --target aarch64-linux-gnu --mcpu="$mcpu" -c -o "$name.arm.o" \
		--emit-header "$name.arm.h" --name "$name" -q
	aarch64-linux-gnu-gcc -O2 -std=c11 -static -DMODEL="$name" -include "$name.arm.h" \
		"$src/examples/classify.c" "$src/examples/sqc_pool.c" -pthread "$name.arm.o" -o "$name.arm"
	qemu-aarch64 -cpu neoverse-n1 "./$name.arm" "$input" -o "$name.arm.npy"
	"$npycmp" -m 0 "$name.arm.npy" "$name.ref.npy" >/dev/null ||
		{ echo "FAIL: $name: aarch64 scores differ"; exit 1; }
}
avx512=1 avxvnni=1
for f in avx512bw avx512vl avx512dq avx512_vnni avx512_vpopcntdq; do
	grep -qw "$f" /proc/cpuinfo || avx512=0
done
grep -qw avx_vnni /proc/cpuinfo || avxvnni=0
# NAME.onnx at kernel level LEVEL (--mcpu=CPU): code with PATTERN in it, and when this CPU
# runs it (RUNS = 1), scores on INPUT equal NAME.ref.npy bit for bit
level_check() {
	local name=$1 input=$2 level=$3 cpu=$4 pattern=$5 runs=$6
	"$sqc" "$name.onnx" --mcpu="$cpu" -o "$name.$level.so" -v 2>"$name.$level.log"
	grep -q "kernels $level " "$name.$level.log" ||
		{ echo "FAIL: $name: --mcpu=$cpu did not choose the $level kernels"; exit 1; }
	# (grep reads everything: with -q, pipefail would see the disassembler's SIGPIPE)
	[ "$(llvm-objdump-19 -d "$name.$level.so" | grep -c "$pattern")" -gt 0 ] ||
		{ echo "FAIL: $name: no '$pattern' at the $level level"; exit 1; }
	if [ "$runs" = 1 ]; then
		"$sqc" run "$name.$level.so" --input "$input" -o "$name.$level.npy" -q
		"$npycmp" -m 0 "$name.$level.npy" "$name.ref.npy" >/dev/null ||
			{ echo "FAIL: $name: $level .so scores differ from the interpreter's"; exit 1; }
	fi
}
# the avx512 level, and the default .so holds no AVX-512 (nor AVX-VNNI) instruction
avx512_check() {
	level_check "$1" "$2" avx512 znver4 zmm $avx512
	if [ "$(llvm-objdump-19 -d "$1.so" | grep -c 'zmm\|vpdpbusd')" -ne 0 ]; then
		echo "FAIL: $1: the x86-64-v3 .so has AVX-512 or AVX-VNNI code"
		exit 1
	fi
}
n=0
for q in bwn twn; do
	for a in 1 2 3 4 5 6 7 8; do
		name=${q}_a$a
		"$sqc" "$model" --config mini.yaml --quant=$q --act-bits $a --save-onnx "$name.onnx" -q
		"$sqc" "$name.onnx" -o "$name.so" -q
		# the reference: the interpreter on the same fine-tuning (same seed, same model; the
		# saved model has a fixed batch of 1)
		"$sqc" run "$model" --config mini.yaml --quant=$q --act-bits $a --input x.npy \
			-o "$name.ref.npy" -q
		"$sqc" run "$name.so" --input x.npy -o "$name.got.npy" -q
		"$npycmp" -m 0 "$name.got.npy" "$name.ref.npy" >/dev/null ||
			{ echo "FAIL: $name: .so scores differ from the interpreter's"; exit 1; }
		if [ $cross = 1 ] && [ $name = bwn_a1 ]; then
			arm_check "$name" x.npy
		fi
		if [ $cross = 1 ] && [ $name = twn_a5 ]; then
			arm_check "$name" x.npy neoverse-n1
		fi
		if [ $name = twn_a8 ] || [ $name = bwn_a3 ]; then
			avx512_check "$name" x.npy
			level_check "$name" x.npy avxvnni alderlake vpdpbusd $avxvnni
		fi
		n=$((n + 1))
	done
done
# VGG-7-small: its 3x3 convolutions of 32..128 channels are the ones the cost rule gives
# the bit-serial kernel (LeNet's convolutions of 1 and 6 channels go to int8 on x86).
"$dataset" dump "$src/models/vgg7s.yaml" 50 xv.npy yv.npy
vgg=$src/models/vgg7s.onnx
for q in bwn twn; do
	for a in 1 2; do
		name=vgg_${q}_a$a
		"$sqc" "$vgg" --config mini.yaml --quant=$q --act-bits $a --save-onnx "$name.onnx" -q
		"$sqc" "$name.onnx" -o "$name.so" -v 2>"$name.log"
		[ "$(grep -c 'kernel bitserial' "$name.log")" -ge 5 ] ||
			{ echo "FAIL: $name: expected bit-serial convolutions"; cat "$name.log"; exit 1; }
		"$sqc" run "$vgg" --config mini.yaml --quant=$q --act-bits $a --input xv.npy \
			-o "$name.ref.npy" -q
		"$sqc" run "$name.so" --input xv.npy -o "$name.got.npy" -q
		"$npycmp" -m 0 "$name.got.npy" "$name.ref.npy" >/dev/null ||
			{ echo "FAIL: $name: .so scores differ from the interpreter's"; exit 1; }
		if [ $cross = 1 ] && [ $name = vgg_twn_a2 ]; then
			arm_check "$name" xv.npy
		fi
		avx512_check "$name" xv.npy
		n=$((n + 1))
	done
done
echo "matrix: $n combinations equal the interpreter bit for bit"
