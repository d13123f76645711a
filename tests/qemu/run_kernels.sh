#!/bin/sh
# tests/qemu/run_kernels.sh SRC_DIR [OUT_DIR]: cross-builds tests/qemu/test_kernels_neon.c
# with the kernels (runtime/kernels/*.c) for AArch64 (static, -O2, NEON paths) and runs it
# under qemu-aarch64 as a Neoverse-N1 and as a Cortex-A72, then again built with +dotprod
# (SDOT) on the Neoverse-N1.
# Exit status: 0 pass, 1 fail, 77 skipped (no cross compiler, no AArch64 libc, no qemu).
# AARCH64_CC and QEMU_AARCH64 override the tools.
set -u
src=${1:?usage: run_kernels.sh SRC_DIR [OUT_DIR]}
out=${2:-${TMPDIR:-/tmp}/sqc-qemu-kernels}
cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU_AARCH64:-qemu-aarch64}

command -v "$cc" >/dev/null 2>&1 || { echo "skip: $cc not found"; exit 77; }
command -v "$qemu" >/dev/null 2>&1 || { echo "skip: $qemu not found"; exit 77; }
mkdir -p "$out" || exit 1
printf 'int main(void) { return 0; }\n' >"$out/probe.c"
"$cc" -static "$out/probe.c" -o "$out/probe" 2>/dev/null ||
	{ echo "skip: $cc cannot link static AArch64 programs"; exit 77; }

"$cc" -std=c11 -O2 -static -Wall -Wextra -Wshadow -Wno-unused-parameter -Werror \
	-I"$src" "$src/tests/qemu/test_kernels_neon.c" "$src"/runtime/kernels/*.c -lm \
	-o "$out/test_kernels_neon" || exit 1

# The same with the dot-product extension (the SDOT path of rtk_iconv), on a CPU that has
# it.
"$cc" -std=c11 -O2 -static -march=armv8.2-a+dotprod -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -Werror -I"$src" "$src/tests/qemu/test_kernels_neon.c" \
	"$src"/runtime/kernels/*.c -lm -o "$out/test_kernels_neon_dotprod" || exit 1

status=0
for cpu in neoverse-n1 cortex-a72; do
	printf '%s: ' "$cpu"
	"$qemu" -cpu "$cpu" "$out/test_kernels_neon" || status=1
done
printf 'neoverse-n1 +dotprod: '
"$qemu" -cpu neoverse-n1 "$out/test_kernels_neon_dotprod" || status=1
exit $status
