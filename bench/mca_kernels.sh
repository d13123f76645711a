#!/usr/bin/env bash
# AArch64 throughput of the kernels' real inner loops as generated code has them (no AArch64
# machine here; qemu timings mean nothing): bench/kernels_spec.c's wrappers for one VGG
# layer (64->64 channels, 3x3, 14x14) are compiled with the AArch64 kernel bitcode of both
# levels exactly as bench/kernels_speed.sh does for x86 (bench/spec_opt.sh: internalize,
# alwaysinline, default<O3>; then llc), the innermost loop holding the kernel's signature
# instruction is cut out of the assembly, and llvm-mca-19 gives its block reciprocal throughput (cycles per
# iteration) on neoverse-n1 and cortex-a72. MACs per iteration from the loop's instructions:
#   f32: FMLA .4s = 4; iconv: SDOT .4s = 16, SMLAL(2) .8h = 8;
#   bconv: CNT .16b = 128 one-bit products of one activation plane (MACs = that / bits).
# "x FMLA" divides by the f32 kernel's MAC/cycle on the same CPU (and "x peak" by 8, two
# 128-bit FMLA pipes: the float peak of both CPUs). Loops that run once per tap rather than
# per channel word carry the same weight in this model; the ratios are of inner loops only.
#   bench/mca_kernels.sh          (needs build/backend/kernels_aarch64_*.bc: build sqc first)
# Environment: BUILD (default build), OUT (default /tmp/sqc-mca-kernels).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=${OUT:-/tmp/sqc-mca-kernels}
bin=$(llvm-config-19 --bindir 2>/dev/null || echo /usr/lib/llvm-19/bin)
mkdir -p "$out"
layer=l4 # "vgg 64->64 14x14 k576" in bench/kernels_layers.h
# spec LEVEL MARCH: $out/LEVEL.s, the wrappers of every variant for AArch64
spec() {
	local level=$1 march=$2 lib=$build/backend/kernels_aarch64_$1.bc
	[ -f "$lib" ] || { echo "no $lib: build sqc first (cmake --build build)" >&2; exit 1; }
	clang-19 -O2 -std=c11 -ffreestanding -fno-math-errno -fPIC -I"$root" -DKS_NIB=0 \
		--target=aarch64-linux-gnu "$march" -Xclang -disable-llvm-passes -emit-llvm \
		-c "$root/bench/kernels_spec.c" -o "$out/spec_$level.bc"
	"$root/bench/spec_opt.sh" "$lib" "$out/spec_$level.bc" "$out/opt_$level.bc"
	"$bin/llc" -O3 -mtriple=aarch64-linux-gnu -mcpu=neoverse-n1 "-mattr=$3" \
		"$out/opt_$level.bc" -o "$out/$level.s"
}
spec v8 -march=armv8-a -dotprod
spec dotprod -march=armv8.2-a+dotprod +dotprod

# loop LEVEL FUNCTION REGEX: the innermost loop of FUNCTION (a label, then a branch back to
# it) with the most lines matching REGEX, to stdout
loop() {
	awk -v fn="ks_spec_${layer}_$2:" -v re="$3" '
		index($0, fn) == 1 { on = 1; next }
		on && /^\t\.cfi_endproc|^\.Lfunc_end/ { on = 0 }
		!on { next }
		{ line[++n] = $0 }
		/^\.LBB[0-9_]+:/ { l = $0; sub(/:.*/, "", l); pos[l] = n }
		END {
			best = 0
			for (i = 1; i <= n; i++) {
				if (line[i] !~ /^\.LBB[0-9_]+:/) continue
				lab = line[i]; sub(/:.*/, "", lab)
				for (j = i + 1; j <= n; j++)
					if (line[j] ~ ("\\t(b|b\\.[a-z]+|cbn?z|tbn?z)\\t.*" lab "$")) break
				# innermost: no branch inside goes back to a label inside (a nested loop)
				inner = 1
				for (k = i + 1; k < j && inner; k++) {
					if (line[k] !~ /\t(b|b\.[a-z]+|cbn?z|tbn?z)\t.*\.LBB[0-9_]+$/) continue
					t = line[k]; sub(/.*\.LBB/, ".LBB", t)
					if ((t in pos) && pos[t] > i && pos[t] < k) inner = 0
				}
				if (j > n || !inner) continue
				cnt = 0
				for (k = i + 1; k < j; k++) if (line[k] ~ re) cnt++
				if (cnt > best || (cnt == best && cnt > 0 && j - i < bestlen)) {
					best = cnt; bi = i; bj = j; bestlen = j - i
				}
			}
			for (k = bi + 1; k <= bj; k++)
				if (line[k] !~ /^\.LBB|^\s*\/\/|^\t\./) print line[k]
		}' "$out/$1.s"
}

printf '%-26s %-12s %9s %7s %9s %7s %7s\n' kernel cpu rthroughput MACs MAC/cycle "x FMLA" "x peak"
declare -A f32mc
for row in "f32 v8 f32 fmla.*\.4s" "bc W1A1 v8 bcw1a1 cnt.*\.16b" "bc W2A2 v8 bcw2a2 cnt.*\.16b" \
           "bc W1A2 v8 bcw1a2 cnt.*\.16b" "ic W2A8 (SMLAL) v8 icw2a8 smlal" \
           "ic W2A8 (SDOT) dotprod icw2a8 sdot"; do
	read -r -a f <<<"$row"
	n=${#f[@]}
	re=${f[n - 1]} fn=${f[n - 2]} level=${f[n - 3]}
	name=${f[*]:0:n-3}
	loop "$level" "$fn" "$re" >"$out/loop.s"
	[ -s "$out/loop.s" ] || { echo "$name: no loop with /$re/ in ks_spec_${layer}_$fn" >&2; exit 1; }
	bits=1
	case $fn in bcw?a2) bits=2 ;; esac
	macs=$(awk -v b="$bits" '
		/\tfmla\t.*\.4s/ { m += 4 } /\tsdot\t/ { m += 16 } /\tsmlal2?\t.*\.8h/ { m += 8 }
		/\tcnt\t.*\.16b/ { m += 128 / b }
		END { print m + 0 }' "$out/loop.s")
	for cpu in neoverse-n1 cortex-a72; do
		attr=""; [ "$level" = dotprod ] && attr=-mattr=+dotprod
		if [ "$level" = dotprod ] && [ $cpu = cortex-a72 ]; then continue; fi
		rt=$(llvm-mca-19 -mtriple=aarch64 -mcpu=$cpu $attr -iterations=300 "$out/loop.s" \
			2>/dev/null | awk '/Block RThroughput/ {print $3}')
		mc=$(awk -v m="$macs" -v r="$rt" 'BEGIN { printf "%.1f", m / r }')
		[ "$fn" = f32 ] && f32mc[$cpu]=$mc
		printf '%-26s %-12s %9s %7s %9s %7s %7s\n' "$name" $cpu "$rt" "$macs" "$mc" \
			"$(awk -v a="$mc" -v b="${f32mc[$cpu]}" 'BEGIN { printf "%.1f", a / b }')" \
			"$(awk -v a="$mc" 'BEGIN { printf "%.1f", a / 8 }')"
	done
done
