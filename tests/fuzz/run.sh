#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD [TARGET...]: the fuzz targets of a -DSQC_FUZZ=ON build.
#  1. every reproducer of tests/fuzz/regressions/<target>/ must run clean, except those that
#     tests/fuzz/pending.txt lists (known bugs whose fix has not landed: reported, not fatal);
#  2. each target fuzzes for SQC_FUZZ_SECONDS (default 60; 0 skips) from its seed corpus
#     (tests/fuzz/corpus/<target>/; onnx also the small models of tests/corpus/ and
#     tests/models/), SQC_FUZZ_JOBS (nproc) targets at a time, and prints the executions
#     each ran. A crash that pending.txt describes is reported and fuzzing goes on.
# New corpus entries, logs and crash artifacts go to BUILD/fuzz/. Exit status 1 when a
# regression input or the fuzzing found anything else.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd); shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx npy tensor_pb config idx)
secs=${SQC_FUZZ_SECONDS:-60}
jobs=${SQC_FUZZ_JOBS:-$(nproc)}
out=$build/fuzz
mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0

bin() { echo "$build/tests/fuzz/fuzz_$1"; }
for t in "${targets[@]}"; do
  [ -x "$(bin "$t")" ] || { echo "fuzz: no target $(bin "$t") (configure with -DSQC_FUZZ=ON)"; exit 1; }
done

# known TARGET LOG: prints the pending.txt line (FILE KIND FUNCTION WHAT) of the target's
# known bug that the crash report LOG shows, if any
known() {
  grep -v '^#' "$here/pending.txt" 2>/dev/null | while read -r file kind fn what; do
    [ "${file%%/*}" = "$1" ] || continue
    grep -q "^SUMMARY: .*$kind" "$2" && grep -q " in $fn " "$2" && { echo "$file $what"; break; }
  done
}
report() { grep -E "ERROR|SUMMARY|runtime error|^    #[0-9] |Test unit written" "$1" | head -30; }

# ---- 1. regressions
for t in "${targets[@]}"; do
  n=0 bad=0
  for f in "$here/regressions/$t"/*; do
    [ -f "$f" ] || continue
    rel=$t/$(basename "$f")
    n=$((n + 1))
    log=$out/regression.log
    listed=$(grep -v '^#' "$here/pending.txt" 2>/dev/null | awk -v f="$rel" '$1 == f')
    if "$(bin "$t")" "$f" >"$log" 2>&1; then
      [ -z "$listed" ] || echo "fuzz: $rel passes now: delete its line in tests/fuzz/pending.txt"
    elif [ -n "$listed" ] && known "$t" "$log" | grep -q "^$rel "; then
      echo "fuzz: $rel still fails (known, fix pending: $(echo "$listed" | cut -d' ' -f4-))"
    else
      echo "fuzz: FAIL regression $rel:"
      report "$log"
      bad=$((bad + 1))
    fi
  done
  echo "fuzz: $t: $n regression inputs, $bad failed"
  [ $bad -eq 0 ] || fail=1
done

# ---- 2. bounded fuzzing: restarted after a known crash until the time is spent
run_one() {
  local t=$1 corpus=$out/corpus/$1 art=$out/artifacts/$1/ sum=$out/$1.summary
  local end=$((SECONDS + secs)) execs=0 known_hits=0 rc=0 left log
  mkdir -p "$corpus" "$art"
  : >"$sum"
  if [ "$t" = onnx ]; then # the small models of the other tests, by path
    find "$src/tests/corpus" "$src/tests/models" -name '*.onnx' -size -20k -exec cp -n {} "$corpus/" \;
  fi
  for round in $(seq 1 50); do
    left=$((end - SECONDS))
    [ $left -ge 1 ] || break
    log=$out/$t.$round.log
    "$(bin "$t")" -max_total_time=$left -print_final_stats=1 -timeout=30 -rss_limit_mb=2048 \
      -artifact_prefix="$art" "$corpus" "$here/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$((execs + $(awk '/stat::number_of_executed_units/ {n = $2} END {print n + 0}' "$log")))
    [ $rc -ne 0 ] || break
    k=$(known "$t" "$log")
    [ -n "$k" ] || { echo "fuzz: FAIL $t: exit $rc; log $log:" >>"$sum"; report "$log" >>"$sum"; break; }
    known_hits=$((known_hits + 1))
    echo "fuzz: $t: known bug again (fix pending): $k" >>"$sum"
    rc=0
  done
  echo "$rc $execs $known_hits" >"$out/$t.rc"
}
if [ "$secs" -gt 0 ]; then
  running=0
  for t in "${targets[@]}"; do
    rm -f "$out/$t".*.log
    run_one "$t" &
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  done
  wait
  for t in "${targets[@]}"; do
    read -r rc execs known_hits <"$out/$t.rc"
    sort -u "$out/$t.summary"
    if [ "$rc" -eq 0 ]; then
      echo "fuzz: $t: $execs executions in $secs s, $([ "$known_hits" -eq 0 ] && echo "no finding" || echo "$known_hits known pending crash(es), nothing new")"
    else
      echo "fuzz: FAIL $t: a new crash after $execs executions"
      fail=1
    fi
  done
fi
exit $fail
