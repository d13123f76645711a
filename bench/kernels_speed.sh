#!/usr/bin/env bash
# Builds and runs bench/kernels_speed.c (x86-64 only): the kernel library timed with runtime
# parameters and specialized per layer as generated code is, against a measured FMA peak.
#   bench/kernels_speed.sh [ROUNDS] [PREFIXES]      (arguments go to the program)
# Environment: BUILD (default build: where cmake put backend/kernels_x86_64_LEVEL.bc),
# LEVEL (v3, the default: x86-64-v3; avxvnni: x86-64-v3 + AVX-VNNI; avx512: the kernel
# level --mcpu gives AVX-512 VNNI and VPOPCNTDQ CPUs, which also runs rtk_bconv in its plain
# layout; the FMA peak loop stays 8-wide), OUT (default /tmp/sqc-kernels-speed: the objects and the binary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=${OUT:-/tmp/sqc-kernels-speed}
bin=$(llvm-config-19 --bindir 2>/dev/null || echo /usr/lib/llvm-19/bin)
level=${LEVEL:-v3}
case $level in
v3) march="-march=x86-64-v3" mcpu=x86-64-v3 nib=1 ;;
avxvnni) march="-march=x86-64-v3 -mavxvnni" mcpu=alderlake nib=1 ;;
avx512) march="-march=x86-64-v4 -mavx512vnni -mavx512vpopcntdq" mcpu=znver4 nib=0 ;;
*) echo "LEVEL=$level: v3, avxvnni or avx512" >&2; exit 1 ;;
esac
lib=$build/backend/kernels_x86_64_$level.bc
[ -f "$lib" ] || { echo "no $lib: build sqc first (cmake --build build)" >&2; exit 1; }
mkdir -p "$out"
# the kernel bitcode's flags (backend/CMakeLists.txt: RTK_FLAGS, RTK_FLAGS_x86_64_LEVEL)
rtk="-O2 -std=c11 -ffreestanding -fno-math-errno -fno-stack-protector -fPIC
     -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I$root
     --target=x86_64-linux-gnu $march"
# 1. runtime parameters: the library bitcode as sqc embeds it, code-generated unchanged
"$bin/llc" -O3 -mcpu=$mcpu -relocation-model=pic -filetype=obj "$lib" -o "$out/rt.o"
# 2. specialized: the wrappers as unoptimized glue, linked with the library, then what
#    backend/emit.c does (bench/spec_opt.sh), code generation at the aggressive level
clang-19 $rtk -DKS_NIB=$nib -Xclang -disable-llvm-passes -emit-llvm -c "$root/bench/kernels_spec.c" \
	-o "$out/spec.bc"
"$root/bench/spec_opt.sh" "$lib" "$out/spec.bc" "$out/spec.opt.bc"
"$bin/llc" -O3 -mcpu=$mcpu -relocation-model=pic -filetype=obj "$out/spec.opt.bc" \
	-o "$out/spec.o"
# 3. the driver
clang-19 -O2 -std=c11 $march -DKS_NIB=$nib -Wall -Wextra -Werror -I"$root" \
	"$root/bench/kernels_speed.c" "$out/rt.o" "$out/spec.o" -o "$out/kernels_speed"
exec "$out/kernels_speed" "$@"
