#!/usr/bin/env bash
# Runs one IR test: sqc [CMD] FILE.ir [ARGS] | FileCheck FILE.ir
# A "# ARGS:" line gives sqc flags (%S in them stands for the test's directory); a
# "# CMD:" line a subcommand (run, eval) that goes before FILE.ir.
# A "# EXPECT-ERROR" line means sqc must fail; FileCheck then reads its stderr.
set -o pipefail
sqc=$1; filecheck=$2; t=$3
dir=$(dirname "$t")
args=$(sed -n 's/^# ARGS: //p' "$t" | head -1)
args=${args//%S/$dir}
cmd=$(sed -n 's/^# CMD: //p' "$t" | head -1)
if grep -q '^# EXPECT-ERROR' "$t"; then
  if "$sqc" $cmd "$t" $args >/dev/null 2>"${TMPDIR:-/tmp}/irtest.$$"; then
    echo "sqc succeeded, expected an error"; rm -f "${TMPDIR:-/tmp}/irtest.$$"; exit 1
  fi
  "$filecheck" "$t" <"${TMPDIR:-/tmp}/irtest.$$"; rc=$?
  rm -f "${TMPDIR:-/tmp}/irtest.$$"; exit $rc
fi
"$sqc" $cmd "$t" $args 2>&1 | "$filecheck" "$t"
