#!/usr/bin/env bash
# Every file of tests/corpus/cases.txt must be rejected by the sqc driver with exit status
# 1, a "sqc: error: FILE: ..." line containing the listed words, and no output file.
# The good external-data model must import and compute its expected output.
#   corpus.sh SQC NPYCMP CORPUS_DIR
set -u
sqc=$1; npycmp=$2; dir=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
while read -r file want; do
  [ -z "$file" ] && continue
  case "$file" in \#*) continue;; esac
  out="$tmp/out.ir"
  "$sqc" "$dir/$file" --emit=ir -o "$out" >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
  msg=$(cat "$tmp/stderr")
  if [ "$rc" -ne 1 ]; then
    echo "FAIL $file: exit status $rc (want 1): $msg"; fail=$((fail+1)); continue
  fi
  if ! grep -q "^sqc: error: $dir/$file: " "$tmp/stderr"; then
    echo "FAIL $file: no 'sqc: error: FILE:' line: $msg"; fail=$((fail+1)); continue
  fi
  if ! tr 'A-Z' 'a-z' <"$tmp/stderr" | grep -qF -- "$want"; then
    echo "FAIL $file: message lacks '$want': $msg"; fail=$((fail+1)); continue
  fi
  if [ -e "$out" ] || ls "$tmp" | grep -q tmp; then
    echo "FAIL $file: output file left behind"; fail=$((fail+1)); continue
  fi
  echo "ok   $file: $msg"; pass=$((pass+1))
done <"$dir/cases.txt"
# the good external-data model
if "$sqc" run "$dir/good_external/model.onnx" --input "$dir/good_external/in.npy" -o "$tmp/ext.npy" &&
   "$npycmp" "$tmp/ext.npy" "$dir/good_external/out.npy" 1e-5 1e-6; then
  echo "ok   good_external"; pass=$((pass+1))
else
  echo "FAIL good_external"; fail=$((fail+1))
fi
echo "corpus: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
