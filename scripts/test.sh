#!/usr/bin/env bash
# Builds sqc (warnings as errors) and runs every test; then builds again with
# AddressSanitizer/UndefinedBehaviorSanitizer and runs the tests there too; then builds with
# clang-19 (-Werror), runs the tests but the slow ones there, and runs the libFuzzer targets
# (tests/fuzz/run.sh: every regression input, then SQC_FUZZ_SECONDS, default 60, per target).
#   scripts/test.sh            everything
#   SQC_SKIP_SANITIZE=1 ...    skip the sanitizer build and the clang/fuzz stage (quicker local runs)
#   SQC_SKIP_FUZZ=1 ...        skip only the clang/fuzz stage
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

echo "== build (release, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQC_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [ -z "${SQC_SKIP_SANITIZE:-}" ]; then
  echo "== build (ASan/UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSQC_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$jobs"
  echo "== tests under ASan/UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE slow
fi

if [ -z "${SQC_SKIP_SANITIZE:-}" ] && [ -z "${SQC_SKIP_FUZZ:-}" ]; then
  echo "== build (clang-19, -Werror, with the fuzz targets)"
  start=$SECONDS
  CC=clang-19 cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQC_WERROR=ON \
    -DSQC_FUZZ=ON >/dev/null
  cmake --build build-clang -j "$jobs"
  echo "== tests (clang-19)"
  ctest --test-dir build-clang --output-on-failure -j "$jobs" -LE slow
  echo "== fuzzing"
  tests/fuzz/run.sh build-clang
  echo "== clang-19 and fuzzing: $((SECONDS - start)) s"
fi
echo "== all tests passed"
