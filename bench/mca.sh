#!/usr/bin/env bash
# Throughput of candidate inner loops for the kernel rebuild (docs/kernels-plan.md) as
# llvm-mca-19 models them: the block reciprocal throughput (cycles per iteration) on x86
# (skylake, icelake-server, znver5 = this machine's Zen 5) and AArch64 (neoverse-n1,
# cortex-a72), and MAC/cycle = N / that, N from the snippet's first line
# "# MACs per iteration: N (...)" (read each comment: some counts are for W1A1 or one
# activation plane, some readings are marked ambiguous). The snippets are hand-written
# sketches of the planned micro-kernels' loops (avx2_today.s and avx2_i8_today.s: today's
# loops). For scale: the float FMA peak is 16 MAC/cycle with AVX2 (2 x 8-wide FMA per
# cycle), 32 with AVX-512 where two 512-bit FMAs issue per cycle, 8 on a 2 x 128-bit NEON.
#   bench/mca.sh            every snippet
set -euo pipefail
cd "$(dirname "$0")/mca"
printf '%-18s %-15s %12s %6s %9s\n' snippet cpu rthroughput MACs MAC/cycle
for f in *.s; do
	case $f in
	avx512*) cpus="icelake-server znver5"; tri=x86_64 ;;
	avx2*)   cpus="skylake icelake-server znver5"; tri=x86_64 ;;
	neon*)   cpus="neoverse-n1 cortex-a72"; tri=aarch64 ;;
	esac
	n=$(sed -n '1s/^# MACs per iteration: \([0-9][0-9]*\).*/\1/p' "$f")
	[ -n "$n" ] || { echo "$f: no '# MACs per iteration: N' first line" >&2; exit 1; }
	for cpu in $cpus; do
		attr=""; [ $tri = aarch64 ] && attr="-mattr=+dotprod"
		rt=$(llvm-mca-19 -mtriple=$tri -mcpu=$cpu $attr -iterations=200 "$f" 2>/dev/null |
			awk '/Block RThroughput/ {print $3}')
		printf '%-18s %-15s %12s %6s %9s\n' "$f" "$cpu" "$rt" "$n" \
			"$(awk -v n="$n" -v r="$rt" 'BEGIN { printf "%.1f", n / r }')"
	done
done
