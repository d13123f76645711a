#!/usr/bin/env bash
# Driver-level checks of the sqc command line on the fixture models (tests/models):
# --print-after / --stop-after / --print-after-all for every pass `sqc --help` lists (and the
# printer/parser round trip at every stage), --input-shape, `sqc run` with batch-2 inputs and
# bad inputs, output files that cannot be written, --version/--help/unknown options, and the
# "sqc: error: " prefix of every error line.
#   driver.sh SQC MODELS_DIR [NPYCMP]
# Prints "ok"/"FAIL" per check and "driver: N passed, M failed"; exits 1 on any failure.
set -u
sqc=$1; dir=$2; npycmp=${3:-}
case "$sqc" in /*) ;; *) sqc=$PWD/$sqc;; esac
case "$dir" in /*) ;; *) dir=$PWD/$dir;; esac
case "$npycmp" in /*|"") ;; *) npycmp=$PWD/$npycmp;; esac
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# sqc runs in an empty working directory, so stray temporary files show up there.
work=$tmp/cwd; mkdir "$work"; cd "$work" || exit 1
pass=0; fail=0

ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { # name, why
  fail=$((fail+1)); echo "FAIL $1: $2"
  if [ -s "$tmp/err" ]; then sed 's/^/     stderr: /' "$tmp/err" | head -5; fi
}
# Runs sqc with the given arguments; sets rc, leaves stdout/stderr in $tmp/out, $tmp/err.
run() { "$sqc" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# Every stderr line is a diagnostic and the first one is "sqc: error: ".
errors_well_formed() {
  [ -s "$tmp/err" ] && head -1 "$tmp/err" | grep -q '^sqc: error: ' &&
    ! grep -qv '^sqc: \(error\|note\): ' "$tmp/err"
}
# check_error NAME WORDS ARGS...: exit status 1, well-formed error lines containing WORDS
# (case-insensitive), nothing on stdout, no file left in the working directory.
check_error() {
  local name=$1 words=$2; shift 2
  run "$@"
  if [ "$rc" -ne 1 ]; then bad "$name" "exit status $rc, want 1"
  elif ! errors_well_formed; then bad "$name" "stderr lines are not all 'sqc: error: ...'"
  elif ! grep -qiF -- "$words" "$tmp/err"; then bad "$name" "message lacks '$words'"
  elif [ -s "$tmp/out" ]; then bad "$name" "something on stdout"
  elif [ -n "$(ls -A "$work")" ]; then bad "$name" "files left in the cwd: $(ls -A "$work")"
  else ok "$name"; fi
  rm -rf "${work:?}"/* "$work"/.[!.]* 2>/dev/null
}
# The value definition line of graph output number 1 in IR file $1.
output_def() {
  local o
  o=$(sed -n 's/^  output %\(.*\)$/\1/p' "$1" | head -1)
  [ -n "$o" ] && grep -F "  %$o: " "$1" | head -1
}
# IR with the contents of constants removed (elided constants parse back with made-up
# data, so only names, types and nodes are compared across a round trip).
ir_skeleton() { sed 's/^\(  const [^=]*\)= .*/\1/' "$1"; }
# npy_shape FILE: the shape tuple in a .npy header, e.g. "(2, 10)".
npy_shape() {
  head -c 256 "$1" | LC_ALL=C tr -c "[:print:]" '\n' | LC_ALL=C sed -n "s/.*'shape': \(([^)]*)\).*/\1/p" | head -1
}
# mknpy FILE DESCR SHAPE NBYTES: a .npy of zeros.
mknpy() {
  local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  local pad=$(( (64 - (10 + ${#hdr} + 1) % 64) % 64 ))
  local hl=$(( ${#hdr} + pad + 1 ))
  {
    printf '\223NUMPY\001\000'
    printf "\\$(printf %03o $((hl & 255)))\\$(printf %03o $((hl >> 8)))"
    printf '%s%*s\n' "$hdr" "$pad" ""
    head -c "$4" /dev/zero
  } >"$1"
}

op11=$dir/cnn_bn_op11.onnx; op13=$dir/cnn_bn_op13.onnx; dyn=$dir/cnn_bn_dyn.onnx
for f in "$op11" "$op13" "$dyn" "$dir/cnn_bn_dyn.in.npy" "$dir/cnn_bn_dyn.out.npy"; do
  [ -f "$f" ] || { echo "FAIL missing fixture $f"; echo "driver: 0 passed, 1 failed"; exit 1; }
done

# ---- --version, --help, unknown options, bad native code generation flags --------------
run --version
if [ "$rc" -eq 0 ] && grep -qE '^sqc [0-9]+\.[0-9]+' "$tmp/out"; then ok "--version"
else bad "--version" "exit $rc, stdout '$(head -1 "$tmp/out")'"; fi
run --help
if [ "$rc" -eq 0 ] && grep -q '^usage: sqc' "$tmp/out" && grep -q '^passes:' "$tmp/out" &&
   [ ! -s "$tmp/err" ]; then ok "--help"
else bad "--help" "exit $rc or no usage/passes section on stdout"; fi
# every sqc option the README documents is in --help (--fixtures belongs to setup.sh)
readme=$dir/../../README.md
missing=""
for f in $(grep -oE '(^|[ `(])--[a-z][a-z-]*' "$readme" | sed 's/^[ `(]//' | sort -u) -c -S -o -v -q; do
	[ "$f" = --fixtures ] && continue
	grep -qE -- "(^|[ ,])$f([ =,]|$)" "$tmp/out" || missing="$missing $f"
done
if [ -s "$readme" ] && [ -z "$missing" ]; then ok "--help lists every option of the README"
else bad "--help options" "missing:$missing"; fi
passes=$(sed -n '/^passes:/,$p' "$tmp/out" | tail -n +2 | awk 'NF {print $1}')
npasses=$(echo "$passes" | grep -c .)
# passes described as "native: ..." belong to the backend
native_passes=$(sed -n '/^passes:/,$p' "$tmp/out" | awk '$2 == "native:" {print $1}' | tr '\n' ' ')
if [ "$npasses" -ge 5 ] && echo "$passes" | grep -qx shape && echo "$passes" | grep -qx dce
then ok "--help lists $npasses passes: $(echo $passes)"
else bad "--help pass list" "got '$(echo $passes)'"; fi

check_error "unknown option" "unknown option" "$op11" --frobnicate
check_error "unknown short option" "unknown option '-x'" "$op11" -x --emit=ir
check_error "unknown --emit" "--emit=obj: expected ir or llvm" "$op11" --emit=obj
check_error "unknown --target" "unknown target 'mips'" "$op11" --target=mips -o m.so
check_error "bad --name" "not a C identifier" "$op11" --name=a-b -o m.so
check_error "unknown --mcpu" "--mcpu=pentium9: not a CPU LLVM knows" "$op11" --mcpu=pentium9 -o m.so
case $(uname -m) in
x86_64) check_error "--mcpu=native for another architecture" "--mcpu=native: this machine is" \
	"$op11" --target=aarch64-linux-gnu --mcpu=native -o m.o ;;
esac
# --mcpu=native: this machine's CPU and the highest kernel level it has
run "$op11" --mcpu=native -o "$tmp/native.so" -v
if [ "$rc" -eq 0 ] && grep -q '^sqc: cpu .*, kernels \(x86-64-v3\|avxvnni\|avx512\|armv8-a\|armv8.2-a+dotprod\) ' "$tmp/err" &&
   [ -s "$tmp/native.so" ]
then ok "--mcpu=native: $(grep -o 'cpu [^,]*, kernels [^ ]*' "$tmp/err")"
else bad "--mcpu=native" "exit status $rc"; fi
run "$op11" --target=aarch64-linux-gnu --mcpu=cortex-a72 -c -o "$tmp/a72.o" -v
if [ "$rc" -eq 0 ] && grep -q 'kernels armv8-a ' "$tmp/err"
then ok "--mcpu=cortex-a72: armv8-a kernels"
else bad "--mcpu=cortex-a72" "exit status $rc or not armv8-a"; fi
check_error "-c and -S" "only one of" "$op11" -c -S -o m.o
check_error "native output to stdout" "stdout" "$op11" -o -
check_error "no model" "no model" --emit=ir
check_error "missing model file" "$dir/nosuch.onnx" "$dir/nosuch.onnx" --emit=ir
check_error "two models" "more than one model" "$op11" "$op13" --emit=ir
check_error "-o without a file" "-o needs" "$op11" --emit=ir -o

# ---- per pass: --print-after, --stop-after + round trip ---------------------------------
for m in "$dir"/*.onnx; do
  n=$(basename "$m" .onnx)
  run "$m" --emit=ir -o "$tmp/$n.final.ir"
  if [ "$rc" -ne 0 ] || ! head -1 "$tmp/$n.final.ir" | grep -q '^graph @'; then
    bad "$n: --emit=ir -o" "exit $rc"; continue
  fi
  # the backend's passes (pack, memplan) run with --emit=ir when a flag names them; their
  # round trip is checked against the pipeline stopped after the last of them
  run "$m" --emit=ir --stop-after=memplan -o "$tmp/$n.native.ir"
  if [ "$rc" -ne 0 ]; then bad "$n: --emit=ir --stop-after=memplan" "exit $rc"; continue; fi
  for p in $passes; do
    final=$tmp/$n.final.ir; stop=()
    case " $native_passes " in *" $p "*) final=$tmp/$n.native.ir; stop=(--stop-after=memplan);; esac
    run "$m" --print-after="$p" --emit=ir
    h=$(grep -c "^# IR after pass '$p'\$" "$tmp/err")
    if [ "$rc" -eq 0 ] && [ "$h" -eq 1 ] && [ "$(grep -c '^# IR after pass' "$tmp/err")" -eq 1 ] &&
       grep -q '^graph @' "$tmp/out"; then ok "$n: --print-after=$p"
    else bad "$n: --print-after=$p" "exit $rc, $h header(s) on stderr"; fi

    f=$tmp/$n.$p.ir
    run "$m" --stop-after="$p" --emit=ir -o "$f"
    if [ "$rc" -ne 0 ] || [ ! -s "$f" ] || [ -s "$tmp/out" ]; then
      bad "$n: --stop-after=$p -o F.ir" "exit $rc"; continue
    fi
    run "$f" --emit=ir "${stop[@]}"
    if [ "$rc" -ne 0 ]; then bad "$n: --stop-after=$p round trip" "sqc F.ir exit $rc"; continue; fi
    # the pipeline completed from the stage's IR gives the same graph as in one go
    if ! diff <(ir_skeleton "$tmp/out") <(ir_skeleton "$final") >"$tmp/diff"; then
      bad "$n: --stop-after=$p round trip" "final IR differs: $(head -3 "$tmp/diff" | tr '\n' ' ')"
    else ok "$n: --stop-after=$p round trip"; fi
  done
  # the final IR is a fixed point of the pipeline (printer/parser/passes agree)
  run "$tmp/$n.final.ir" --emit=ir
  if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/$n.final.ir"; then ok "$n: final IR is a fixed point"
  else bad "$n: final IR is a fixed point" "exit $rc or different text"; fi
done

# --stop-after really stops: BN still there after shape, gone at the end.
run "$op11" --stop-after=shape --emit=ir
if [ "$rc" -eq 0 ] && grep -q '= BatchNormalization(' "$tmp/out" &&
   ! grep -q '= BatchNormalization(' "$tmp/cnn_bn_op11.final.ir"; then ok "--stop-after=shape keeps BN"
else bad "--stop-after=shape keeps BN" "exit $rc"; fi
run "$op11" --stop-after shape --emit=ir
if [ "$rc" -eq 0 ] && grep -q '= BatchNormalization(' "$tmp/out"; then ok "--stop-after NAME (two words)"
else bad "--stop-after NAME (two words)" "exit $rc"; fi

# --print-after-all: one header per pass, in pipeline order, and the IR is still printed.
# With --emit=ir the backend's passes do not run; compiling runs them all.
run "$op11" --print-after-all --emit=ir
got=$(sed -n "s/^# IR after pass '\(.*\)'\$/\1/p" "$tmp/err")
want=$(for p in $passes; do case " $native_passes " in *" $p "*) ;; *) echo "$p";; esac; done)
if [ "$rc" -eq 0 ] && [ "$got" = "$want" ] && grep -q '^graph @' "$tmp/out"
then ok "--print-after-all: one header per pass"
else bad "--print-after-all" "exit $rc, headers: $(echo $got)"; fi
run "$op11" --print-after-all -o "$tmp/all.so"
got=$(sed -n "s/^# IR after pass '\(.*\)'\$/\1/p" "$tmp/err")
if [ "$rc" -eq 0 ] && [ "$got" = "$passes" ] && [ -s "$tmp/all.so" ]
then ok "--print-after-all when compiling: every pass"
else bad "--print-after-all when compiling" "exit $rc, headers: $(echo $got)"; fi

# Unknown pass names: an error listing the passes.
list=$(echo $passes | sed 's/ /, /g')
check_error "--print-after=nosuch" "unknown pass 'nosuch' (passes: $list)" "$op11" --print-after=nosuch --emit=ir
check_error "--stop-after=nosuch" "unknown pass 'nosuch' (passes: $list)" "$op11" --stop-after=nosuch --emit=ir

# ---- --input-shape --------------------------------------------------------------------
run "$dyn" --emit=ir --input-shape input=4x1x28x28
if [ "$rc" -eq 0 ] && grep -qxF '  input %input: f32[4,1,28,28]' "$tmp/out" &&
   output_def "$tmp/out" | grep -qF ': f32[4,10] = '; then ok "--input-shape input=4x1x28x28"
else bad "--input-shape input=4x1x28x28" "exit $rc, input/output types wrong"; fi
run "$dyn" --emit=ir --input-shape=input=3,1,28,28
if [ "$rc" -eq 0 ] && grep -qxF '  input %input: f32[3,1,28,28]' "$tmp/out"; then ok "--input-shape=NAME=D,D,..."
else bad "--input-shape=NAME=D,D,..." "exit $rc"; fi
run "$dyn" --emit=ir
if [ "$rc" -eq 0 ] && grep -qxF '  input %input: f32[1,1,28,28]' "$tmp/out" &&
   output_def "$tmp/out" | grep -qF ': f32[1,10] = '; then ok "symbolic batch defaults to 1"
else bad "symbolic batch defaults to 1" "exit $rc"; fi
check_error "--input-shape input=4xx" "--input-shape" "$dyn" --emit=ir --input-shape input=4xx
check_error "--input-shape names no input" "no input named 'inptu'" "$dyn" --emit=ir --input-shape inptu=4x1x28x28
check_error "--input-shape quotes the whole spec" "got 'input=4xx'" "$dyn" --emit=ir --input-shape input=4xx
check_error "--input-shape without NAME=" "--input-shape" "$dyn" --emit=ir --input-shape 4x1x28x28
check_error "--input-shape negative dim" "--input-shape" "$dyn" --emit=ir --input-shape input=-1x1x28x28
check_error "--input-shape contradicts a fixed dim" "input 'input'" "$op13" --emit=ir --input-shape input=4x1x28x28
check_error "--input-shape contradicts a fixed spatial dim" "input 'input'" "$dyn" --emit=ir --input-shape input=2x1x27x28
check_error "--input-shape wrong rank" "rank" "$dyn" --emit=ir --input-shape input=1x28x28

# ---- sqc run --------------------------------------------------------------------------
run run "$dyn" --input "$dir/cnn_bn_dyn.in.npy" -o "$tmp/o.npy"
if [ "$rc" -eq 0 ] && [ "$(npy_shape "$tmp/o.npy")" = "(2, 10)" ] && [ -z "$(ls -A "$work")" ]
then ok "run: batch-2 input gives a (2, 10) output"
else bad "run: batch-2 input" "exit $rc, shape '$(npy_shape "$tmp/o.npy" 2>/dev/null)'"; fi
if [ -n "$npycmp" ]; then
  if "$npycmp" "$tmp/o.npy" "$dir/cnn_bn_dyn.out.npy" 1e-4 1e-5 >"$tmp/cmp" 2>&1
  then ok "run: batch-2 output equals PyTorch's"
  else bad "run: batch-2 output equals PyTorch's" "$(cat "$tmp/cmp")"; fi
  run run "$dyn" --reference --input "$dir/cnn_bn_dyn.in.npy" -o "$tmp/r.npy"
  if [ "$rc" -eq 0 ] && "$npycmp" "$tmp/r.npy" "$dir/cnn_bn_dyn.out.npy" 1e-4 1e-5 >"$tmp/cmp" 2>&1
  then ok "run --reference: batch-2 output equals PyTorch's"
  else bad "run --reference" "exit $rc: $(cat "$tmp/cmp")"; fi
fi
mknpy "$tmp/b3.npy" '<f4' '(3, 1, 28, 28)' $((3 * 784 * 4))
run run "$dyn" --input "$tmp/b3.npy" -o "$tmp/o3.npy"
if [ "$rc" -eq 0 ] && [ "$(npy_shape "$tmp/o3.npy")" = "(3, 10)" ]; then ok "run: batch-3 input gives (3, 10)"
else bad "run: batch-3 input" "exit $rc"; fi
# an explicit --input-shape that agrees with the file is fine
run run "$dyn" --input-shape input=2x1x28x28 --input "$dir/cnn_bn_dyn.in.npy" -o "$tmp/o4.npy"
if [ "$rc" -eq 0 ] && cmp -s "$tmp/o.npy" "$tmp/o4.npy"; then ok "run: --input-shape agreeing with the input"
else bad "run: --input-shape agreeing with the input" "exit $rc"; fi

mknpy "$tmp/f64.npy" '<f8' '(2, 1, 28, 28)' $((2 * 784 * 8))
mknpy "$tmp/bad.npy" '<f4' '(2, 1, 27, 28)' $((2 * 27 * 28 * 4))
mknpy "$tmp/rank.npy" '<f4' '(2, 784)' $((2 * 784 * 4))
mknpy "$tmp/one.npy" '<f4' '(1, 1, 28, 28)' $((784 * 4))
check_error "run: f64 input" "input 'input'" run "$dyn" --input "$tmp/f64.npy" -o "$tmp/x.npy"
check_error "run: wrong input shape" "input 'input'" run "$dyn" --input "$tmp/bad.npy" -o "$tmp/x.npy"
check_error "run: wrong input rank" "input 'input'" run "$dyn" --input "$tmp/rank.npy" -o "$tmp/x.npy"
check_error "run: batch 2 on a batch-1 model" "input 'input'" run "$op13" --input "$dir/cnn_bn_dyn.in.npy" -o "$tmp/x.npy"
check_error "run: input contradicting --input-shape" "input 'input'" run "$dyn" --input-shape input=4x1x28x28 --input "$tmp/one.npy" -o "$tmp/x.npy"
check_error "run: two inputs for a 1-input model" "input" run "$dyn" --input "$tmp/one.npy" --input "$tmp/one.npy" -o "$tmp/x.npy"
check_error "run: missing input file" "$tmp/nosuch.npy" run "$dyn" --input "$tmp/nosuch.npy" -o "$tmp/x.npy"
[ -e "$tmp/x.npy" ] && bad "run errors" "an output file was written" || ok "run errors write no output"
check_error "run: missing -o" "-o" run "$dyn" --input "$dir/cnn_bn_dyn.in.npy"
check_error "run: missing --input" "--input" run "$dyn" -o "$tmp/x.npy"
check_error "run: unwritable output path" "/nonexistent/dir/out.npy" run "$dyn" --input "$dir/cnn_bn_dyn.in.npy" -o /nonexistent/dir/out.npy
mkdir "$work/adir"
run run "$dyn" --input "$dir/cnn_bn_dyn.in.npy" -o adir
if [ "$rc" -eq 1 ] && errors_well_formed && [ "$(ls -A "$work")" = adir ] && [ -z "$(ls -A "$work/adir")" ]
then ok "run: -o DIRECTORY fails and leaves no temporary file"
else bad "run: -o DIRECTORY" "exit $rc, cwd: $(ls -A "$work" | tr '\n' ' ')"; fi
run "$op11" --emit=ir -o adir
if [ "$rc" -eq 1 ] && errors_well_formed && [ "$(ls -A "$work")" = adir ]
then ok "--emit=ir -o DIRECTORY fails and leaves no temporary file"
else bad "--emit=ir -o DIRECTORY" "exit $rc, cwd: $(ls -A "$work" | tr '\n' ' ')"; fi
rmdir "$work/adir"
check_error "--emit=ir unwritable output path" "/nonexistent/dir/out.ir" "$op11" --emit=ir -o /nonexistent/dir/out.ir
# a successful -o writes exactly the file (no temporary left next to it)
run "$op11" --emit=ir -o out.ir
if [ "$rc" -eq 0 ] && [ "$(ls -A "$work")" = out.ir ] && cmp -s out.ir "$tmp/cnn_bn_op11.final.ir"
then ok "--emit=ir -o F writes F only"
else bad "--emit=ir -o F" "exit $rc, cwd: $(ls -A "$work" | tr '\n' ' ')"; fi
rm -f "$work/out.ir"

# run: NaN/Inf inputs get a warning (the policy: quantizers map NaN to their lowest level)
hdr="{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 28, 28), }"
pad=$((64 - (10 + ${#hdr} + 1) % 64)); [ $pad -eq 64 ] && pad=0
{ printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(( (${#hdr} + pad + 1) % 256 )))\\x$(printf %02x $(( (${#hdr} + pad + 1) / 256 )))"
  printf '%s%*s\n' "$hdr" $pad ''; printf '\x00\x00\xc0\x7f\x00\x00\x80\x7f'; head -c $((782 * 4)) /dev/zero
} >"$tmp/nan.npy"
run run "$op13" --input "$tmp/nan.npy" -o "$tmp/nan.out.npy"
if [ "$rc" -eq 0 ] && grep -q "warning: .*nan.npy: 2 of 784 values are NaN or infinite" "$tmp/err"
then ok "run: NaN/Inf inputs get a warning"
else bad "run NaN warning" "exit $rc: $(cat "$tmp/err")"; fi
# run: a model without inputs runs without --input (ONNX's test_constant); a model with
# inputs but no --input says how many it wants
tc=/usr/share/libonnx-testdata/data/node/test_constant/model.onnx
if [ -f "$tc" ]; then
	run run "$tc" -o "$tmp/const.npy"
	if [ "$rc" -eq 0 ] && [ -s "$tmp/const.npy" ]; then ok "run: a model without inputs"
	else bad "run: model without inputs" "exit $rc: $(cat "$tmp/err")"; fi
fi
check_error "run without --input" "the model has 1 input, 0 given with --input (give each" \
	run "$op13" -o "$tmp/x.npy"
echo "driver: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
