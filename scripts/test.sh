#!/usr/bin/env bash
# Builds sqc (warnings as errors) and runs every test; then builds again with
# AddressSanitizer/UndefinedBehaviorSanitizer and runs the tests there too.
#   scripts/test.sh            everything
#   SQC_SKIP_SANITIZE=1 ...    skip the sanitizer build (quicker local runs)
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
echo "== all tests passed"
