/* backend/aarch64/target.c: AArch64 with NEON (armv8-a). The kernel library's bitcode for this
 * target (clang-19 -march=armv8-a, see backend/CMakeLists.txt) is embedded here. */
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

CG_DEFINE_TARGET(aarch64, "aarch64-linux-gnu", "generic", init, 0)
