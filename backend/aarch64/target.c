/* backend/aarch64/target.c: AArch64 with NEON. Two kernel levels, their bitcode embedded
 * here (clang-19, see backend/CMakeLists.txt): armv8-a (the default) and armv8.2-a+dotprod
 * (SDOT in the int8 kernel), which --mcpu selects when the CPU has it (neoverse-n1,
 * cortex-a76, ...). */
#include "../target.h"

#include <llvm-c/Target.h>

static void init(void)
{
	LLVMInitializeAArch64TargetInfo();
	LLVMInitializeAArch64Target();
	LLVMInitializeAArch64TargetMC();
	LLVMInitializeAArch64AsmPrinter();
	LLVMInitializeAArch64AsmParser();
}

CG_EMBED(aarch64_v8, SQC_KERNELS_BC0)
CG_EMBED(aarch64_dotprod, SQC_KERNELS_BC1)

const CgTarget *cg_target_aarch64(void)
{
	static CgTarget t;
	t = (CgTarget){"aarch64-linux-gnu", "generic", init, cg_cpus_aarch64, 2,
	               {{"armv8-a", "NEON", "", CG_BC(aarch64_v8), 0},
	                {"armv8.2-a+dotprod", "NEON, SDOT", "+dotprod", CG_BC(aarch64_dotprod), 0}}};
	return &t;
}
