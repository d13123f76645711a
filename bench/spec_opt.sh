#!/usr/bin/env bash
# bench/spec_opt.sh LIB.bc SPEC.bc OUT.bc: what backend/emit.c does to a model, on
# bench/kernels_spec.c's wrappers (SPEC.bc, unoptimized) linked with the kernel library
# bitcode LIB.bc: every function but the wrappers (and the table) internal and
# alwaysinline, then default<O3>; checks that every kernel call was inlined. Used by
# kernels_speed.sh (x86) and mca_kernels.sh (AArch64).
set -euo pipefail
lib=$1 spec=$2 out=$3
bin=$(llvm-config-19 --bindir 2>/dev/null || echo /usr/lib/llvm-19/bin)
"$bin/llvm-link" "$lib" "$spec" -o "$out.all.bc"
"$bin/llvm-dis" "$out.all.bc" -o - |
	sed -E '/^define /{ /@ks_spec_/! { s/^define (internal |dso_local )?/define internal /;
	        s/ #([0-9]+) \{$/ alwaysinline #\1 {/ } }' >"$out.all.ll"
if grep -E '^define ' "$out.all.ll" | grep -v '@ks_spec_' | grep -qv ' alwaysinline #'; then
	echo "spec_opt.sh: a kernel function escaped the alwaysinline rewrite" >&2
	exit 1
fi
"$bin/opt" -passes='default<O3>' "$out.all.ll" -o "$out"
if "$bin/llvm-dis" "$out" -o - | grep -q 'call .*@rtk_'; then
	echo "spec_opt.sh: a kernel call was not inlined" >&2
	exit 1
fi
