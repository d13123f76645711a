#!/usr/bin/env bash
# Runs one IR test: sqc FILE.ir [ARGS from a "# ARGS:" line] | FileCheck FILE.ir
# A "# EXPECT-ERROR" line means sqc must fail; FileCheck then reads its stderr.
set -o pipefail
sqc=$1; filecheck=$2; t=$3
args=$(sed -n 's/^# ARGS: //p' "$t" | head -1)
if grep -q '^# EXPECT-ERROR' "$t"; then
  if "$sqc" "$t" $args >/dev/null 2>"${TMPDIR:-/tmp}/irtest.$$"; then
    echo "sqc succeeded, expected an error"; rm -f "${TMPDIR:-/tmp}/irtest.$$"; exit 1
  fi
  "$filecheck" "$t" <"${TMPDIR:-/tmp}/irtest.$$"; rc=$?
  rm -f "${TMPDIR:-/tmp}/irtest.$$"; exit $rc
fi
"$sqc" "$t" $args 2>&1 | "$filecheck" "$t"
