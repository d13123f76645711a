#!/usr/bin/env bash
# PyTorch-exported fixtures (tests/models): `sqc run` equals PyTorch's output (rtol 1e-4),
# with the BLAS fast paths and with the reference kernels, and the canonicalized IR has no
# Shape, Gather, Constant, Identity or BatchNormalization left.
#   fixtures.sh SQC NPYCMP MODELS_DIR
set -u
sqc=$1; npycmp=$2; dir=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() { # name, command...
  local name=$1; shift
  if "$@" >"$tmp/log" 2>&1; then pass=$((pass+1)); echo "ok   $name"
  else fail=$((fail+1)); echo "FAIL $name"; sed 's/^/     /' "$tmp/log"; fi
}
for m in "$dir"/*.onnx; do
  b=${m%.onnx}; n=$(basename "$b")
  check "$n run" sh -c "'$sqc' run '$m' --input '$b.in.npy' -o '$tmp/o.npy' && '$npycmp' '$tmp/o.npy' '$b.out.npy' 1e-4 1e-5"
  check "$n run --reference" sh -c "'$sqc' run '$m' --reference --input '$b.in.npy' -o '$tmp/r.npy' && '$npycmp' '$tmp/r.npy' '$b.out.npy' 1e-4 1e-5"
  check "$n ir clean" sh -c "'$sqc' '$m' --emit=ir > '$tmp/ir' && ! grep -nE '= (Shape|Gather|Constant|Identity|Dropout|BatchNormalization)\(' '$tmp/ir'"
done
echo "fixtures: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
