#!/usr/bin/env bash
# Throughput of candidate inner loops for the kernel rebuild (docs/kernels-plan.md) as
# llvm-mca-19 models them: the block reciprocal throughput (cycles per iteration) on x86
# (skylake, icelake-server) and AArch64 (neoverse-n1, cortex-a72). The snippets are
# hand-written sketches of the planned micro-kernels' loops (avx2_today.s and
# avx2_i8_today.s: today's loops); annotating each with its multiply-accumulates per
# iteration, to print MAC/cycle, is the plan's step 0.
#   bench/mca.sh            every snippet
set -euo pipefail
cd "$(dirname "$0")/mca"
for f in *.s; do
	case $f in
	avx512*) cpus="icelake-server"; tri=x86_64 ;;
	avx2*)   cpus="skylake icelake-server"; tri=x86_64 ;;
	neon*)   cpus="neoverse-n1 cortex-a72"; tri=aarch64 ;;
	esac
	for cpu in $cpus; do
		attr=""; [ $tri = aarch64 ] && attr="-mattr=+dotprod"
		rt=$(llvm-mca-19 -mtriple=$tri -mcpu=$cpu $attr -iterations=200 "$f" 2>/dev/null |
			awk '/Block RThroughput/ {print $3}')
		printf '%-20s %-16s block rthroughput %s\n' "$f" "$cpu" "$rt"
	done
done
