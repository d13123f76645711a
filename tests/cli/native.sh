#!/usr/bin/env bash
# Compiled models end to end (issue 5): the .so and the AArch64 object against the
# interpreter, which is the oracle.
#   native.sh SQC DATASET NPYCMP THREADS SOURCE_DIR
# Models: LeNet-5 in float, and fine-tuned on a tiny subset (tests/configs/sq_tiny.yaml)
# with float activations (sign-select kernel) and 2- and 8-bit activations (bit-serial).
# Checks, per model: scores of 500 test images equal bit for bit with quantized
# activations (exact integer sums, then the same float epilogue), within 1e-5 relative to
# the largest score otherwise (float sums differ in order only); the same accuracy
# from `sqc eval` on the .so and on the .onnx; byte-identical output when compiled twice;
# 4 threads with separate workspaces agree bit for bit, and so does NAME_run_parallel
# with 1-4 threads (every layer split: --min-task-us 0.001), also through sqc run --threads; the cross-compiled example app
# under qemu-aarch64 (Neoverse-N1, Cortex-A72) gives the same scores and accuracy.
set -euo pipefail
sqc=$1 dataset=$2 npycmp=$3 threads=$4 src=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
cfg=$src/models/lenet5.yaml
tiny=$src/tests/configs/sq_tiny.yaml
fail() { echo "FAIL: $*" >&2; exit 1; }

"$dataset" dump "$cfg" 500 x.npy y.npy
cross=1
command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || cross=0


check_model() { # NAME MODEL.onnx [REFERENCE_MODEL.onnx FLAGS...]
	# The reference runs the interpreter on REFERENCE_MODEL with FLAGS (default: MODEL);
	# a model saved by --save-onnx has a fixed batch of 1, so its 500-image reference runs
	# the float model with the same fine-tuning flags (same seed: the same model).
	local name=$1 model=$2
	shift 2
	local ref=("$model")
	[ $# -gt 0 ] && ref=("$@")
	"$sqc" "$model" -o "$name.so" --emit-header "$name.h" -q
	[ -s "$name.so" ] && [ -s "$name.h" ] || fail "$name: no .so or header"
	grep -q "int ${name}_run(const float \*input" "$name.h" || fail "$name: header lacks ${name}_run"
	mkdir -p again
	"$sqc" "$model" -o "again/$name.so" -q
	cmp -s "$name.so" "again/$name.so" || fail "$name: two compilations differ"
	"$sqc" run "${ref[@]}" --input x.npy -o "$name.ref.npy" -q
	"$sqc" run "$name.so" --input x.npy -o "$name.got.npy"
	"$npycmp" "${cmpopt[@]}" "$name.got.npy" "$name.ref.npy" || fail "$name: .so scores differ from the interpreter's "
	local a_so a_ir
	a_so=$("$sqc" eval "$name.so" --config "$cfg" --limit 2000)
	a_ir=$("$sqc" eval "$model" --config "$cfg" --limit 2000 -q | tail -1)
	[ "$a_so" = "$a_ir" ] || fail "$name: eval of the .so ($a_so) != interpreter ($a_ir)"
	"$threads" "$name.so" x.npy 2 >/dev/null || fail "$name: threads disagree"
	# NAME_run_parallel with every layer split as finely as it goes (1-4 threads)
	"$sqc" "$model" -o "$name.par.so" --min-task-us 0.001 -q
	"$threads" "$name.par.so" x.npy 1 >/dev/null || fail "$name: NAME_run_parallel disagrees"
	"$sqc" run "$name.par.so" --input x.npy -o "$name.par.npy" --threads 3
	cmp -s "$name.par.npy" "$name.got.npy" || fail "$name: sqc run --threads 3 differs"
	if [ $cross = 1 ]; then
		"$sqc" "$model" --target aarch64-linux-gnu -c -o "$name.arm.o" --emit-header "$name.arm.h" --name "$name" -q
		aarch64-linux-gnu-gcc -O2 -std=c11 -static -DMODEL="$name" -include "$name.arm.h" \
			"$src/examples/classify.c" "$src/examples/sqc_pool.c" -pthread "$name.arm.o" -o "$name.arm"
		for cpu in neoverse-n1 cortex-a72; do
			qemu-aarch64 -cpu $cpu "./$name.arm" x.npy -o "$name.$cpu.npy"
			"$npycmp" "${cmpopt[@]}" "$name.$cpu.npy" "$name.ref.npy" || fail "$name: aarch64 ($cpu) scores differ"
			[ "$("$dataset" acc "$name.$cpu.npy" y.npy)" = "$("$dataset" acc "$name.ref.npy" y.npy)" ] ||
				fail "$name: aarch64 ($cpu) accuracy differs"
		done
	fi
	echo "ok: $name ($a_so)"
}

cmpopt=(-m 1e-5)
check_model lenet5 "$src/models/lenet5.onnx"
for bits in 32 2 8 1; do
	if [ $bits = 32 ]; then cmpopt=(-m 1e-5); else cmpopt=(-m 0); fi
	"$sqc" "$src/models/lenet5.onnx" --config "$tiny" --quant=sq --act-bits $bits --save-onnx "q$bits.onnx" -q
	check_model "q$bits" "q$bits.onnx" "$src/models/lenet5.onnx" --config "$tiny" --quant=sq --act-bits $bits
done
# 1-bit activations: the layer reading the signed image input keeps 2 bits, the rest 1
"$sqc" q1.onnx --emit=ir -q >q1.ir
grep -q '"sqc.act_bits"=2' q1.ir && grep -q '"sqc.act_bits"=1' q1.ir ||
	fail "act bits 1: expected 2 bits on the input layer and 1 elsewhere"
# the report names each layer's kernel
"$sqc" q2.onnx -o q2r.so --report q2.json -q
"$sqc" "$src/models/lenet5.onnx" --config "$tiny" --quant=sq --act-bits 2 -o q2b.so --report q2b.json -q
grep -q '"kernel": "bitserial"' q2b.json || fail "report: no bitserial kernel in q2b.json"
# --print-after=pack shows the kernels
"$sqc" q2.onnx -o q2p.so --print-after=pack -q 2>dump.txt
grep -q 'sqc.kernel"="bitserial"' dump.txt || fail "--print-after=pack shows no kernel"

# The PyTorch-exported fixtures (BatchNorm, residual Add, GAP, Pad, Transpose, PRelu,
# Sigmoid, Tanh, Softmax ...): compiled code against the interpreter, x86 and AArch64.
for m in "$src"/tests/models/*.onnx; do
	f=$(basename "$m" .onnx)
	"$sqc" "$m" -o "$f.so" -q
	"$sqc" run "$m" --input "${m%.onnx}.in.npy" -o "$f.ref.npy" -q
	"$sqc" run "$f.so" --input "${m%.onnx}.in.npy" -o "$f.got.npy"
	"$npycmp" -m 1e-5 "$f.got.npy" "$f.ref.npy" || fail "fixture $f: .so differs from the interpreter"
	"$sqc" "$m" -o "$f.par.so" --min-task-us 0.001 -q
	"$threads" "$f.par.so" "${m%.onnx}.in.npy" 1 >/dev/null || fail "fixture $f: NAME_run_parallel disagrees"
	if [ $cross = 1 ]; then
		"$sqc" "$m" --target aarch64-linux-gnu -c -o "$f.arm.o" --emit-header "$f.arm.h" --name fx -q
		aarch64-linux-gnu-gcc -O2 -std=c11 -static -DMODEL=fx -include "$f.arm.h" \
			"$src/examples/classify.c" "$src/examples/sqc_pool.c" -pthread "$f.arm.o" -o "$f.arm"
		qemu-aarch64 -cpu neoverse-n1 "./$f.arm" "${m%.onnx}.in.npy" -o "$f.arm.npy"
		"$npycmp" -m 1e-5 "$f.arm.npy" "$f.got.npy" || fail "fixture $f: aarch64 differs"
	fi
	echo "ok: fixture $f"
done

# A Clip(0, hi) fused into a float Conv (pass pack, sqc.clip) against the interpreter.
"$dataset" dump "$cfg" 1 x1.npy y1.npy
"$sqc" "$src/tests/models/relu6.ir" -o relu6.so -q
"$sqc" run "$src/tests/models/relu6.ir" --input x1.npy -o relu6.ref.npy -q
"$sqc" run relu6.so --input x1.npy -o relu6.got.npy
"$npycmp" -m 1e-5 relu6.got.npy relu6.ref.npy || fail "relu6: the fused Clip differs from the interpreter"
"$sqc" "$src/tests/models/relu6.ir" -o relu6.so --print-after=pack -q 2>relu6.txt
grep -q '"sqc.clip"=0.5f' relu6.txt || fail "relu6: the Clip was not fused"
echo "ok: fused Clip"

# An AArch64 shared object (not only the object file): the example app linked against it
# under qemu-aarch64 gives the interpreter's scores.
if [ $cross = 1 ]; then
	mkdir -p arm
	"$sqc" "$src/models/lenet5.onnx" --target aarch64-linux-gnu -o arm/lenet5.so --emit-header arm/lenet5.h -q
	aarch64-linux-gnu-gcc -O2 -std=c11 -DMODEL=lenet5 -include arm/lenet5.h "$src/examples/classify.c" "$src/examples/sqc_pool.c" -pthread \
		arm/lenet5.so -o arm/app -Wl,-rpath,'$ORIGIN'
	qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu cortex-a72 arm/app x.npy -o arm/scores.npy
	"$npycmp" -m 1e-5 arm/scores.npy lenet5.ref.npy || fail "aarch64 .so differs from the interpreter"
	echo "ok: aarch64 .so"
fi

# The example app on a PGM image gives the class of the scores' argmax.
"$dataset" pgm "$cfg" 0 img.pgm
cc -O2 -std=c11 -DMODEL=lenet5 -include lenet5.h "$src/examples/classify.c" "$src/examples/sqc_pool.c" \
	-pthread lenet5.so -o app -Wl,-rpath,"$tmp"
want=$(./app img.pgm)
[ "$(./app img.pgm --threads 2)" = "$want" ] || fail "example app with --threads 2"
./app x.npy -o app1.npy >/dev/null && ./app x.npy -o app3.npy --threads 3 >/dev/null &&
	cmp -s app1.npy app3.npy || fail "example app: --threads 3 scores differ"
echo "$want" | grep -q '^class [0-9]' || fail "example app on a PGM"
# the ctypes example gives the same answer (when python3 is there: it is not a dependency)
if command -v python3 >/dev/null; then
	got=$(python3 "$src/examples/classify.py" ./lenet5.so img.pgm)
	[ "$got" = "$want" ] || fail "classify.py: '$got' vs the C app's '$want'"
fi

# Errors: nothing half-written.
if "$sqc" "$src/models/lenet5.onnx" --target sparc-sun -o bad.so 2>err.txt; then fail "bad target accepted"; fi
grep -q "unknown target" err.txt || fail "bad target message"
if "$sqc" "$src/models/lenet5.onnx" -o nodir/x.so 2>err.txt; then fail "missing folder accepted"; fi
grep -q "sqc: error:" err.txt || fail "missing folder message"
if "$sqc" "$src/models/lenet5.onnx" --name 9bad -o b.so 2>err.txt; then fail "bad --name accepted"; fi
# a header that cannot be written: no output either; header and output the same file: refused
if "$sqc" "$src/models/lenet5.onnx" -o hx.so --emit-header nodir/hx.h 2>err.txt; then
	fail "header into a missing folder accepted"; fi
[ -e hx.so ] && fail "header failed but hx.so was left behind"
grep -q "cannot write nodir/hx.h" err.txt || fail "header failure message: $(cat err.txt)"
if "$sqc" "$src/models/lenet5.onnx" -o same.h --emit-header same.h 2>err.txt; then
	fail "--emit-header X -o X accepted"; fi
[ -e same.h ] && fail "--emit-header X -o X left a file"
grep -q "name the same file" err.txt || fail "same-file message: $(cat err.txt)"
ls | grep -q tmp && fail "temporary files left behind: $(ls)"
echo "native: all checks passed"
