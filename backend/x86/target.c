/* backend/x86/target.c: x86-64. Three kernel levels, their bitcode embedded here (clang-19,
 * see backend/CMakeLists.txt): x86-64-v3 (AVX2, FMA: the default; the .so runs on any AVX2
 * CPU), avxvnni (x86-64-v3 with AVX-VNNI: Alder Lake and later Intel client and Atom cores)
 * and avx512 (x86-64-v4 with VNNI and VPOPCNTDQ: Ice Lake, Zen 4 and later); --mcpu selects
 * the highest the CPU has. */
#include "../target.h"

#include <llvm-c/Target.h>

static void init(void)
{
	LLVMInitializeX86TargetInfo();
	LLVMInitializeX86Target();
	LLVMInitializeX86TargetMC();
	LLVMInitializeX86AsmPrinter();
	LLVMInitializeX86AsmParser();
}

CG_EMBED(x86_64_v3, SQC_KERNELS_BC0)
CG_EMBED(x86_64_avxvnni, SQC_KERNELS_BC1)
CG_EMBED(x86_64_avx512, SQC_KERNELS_BC2)

const CgTarget *cg_target_x86_64(void)
{
	static CgTarget t;
	t = (CgTarget){"x86_64-linux-gnu", "x86-64-v3", init, cg_cpus_x86_64, 3,
	               {{"x86-64-v3", "AVX2, FMA", "", CG_BC(x86_64_v3), 1},
	                {"avxvnni", "AVX2, FMA, AVX-VNNI", "+avxvnni", CG_BC(x86_64_avxvnni), 1},
	                {"avx512", "AVX-512 F/BW/DQ/VL, VNNI, VPOPCNTDQ",
	                 "+avx512f,+avx512bw,+avx512dq,+avx512vl,+avx512vnni,+avx512vpopcntdq",
	                 CG_BC(x86_64_avx512), 0}}};
	return &t;
}
