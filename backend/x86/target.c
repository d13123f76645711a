/* backend/x86/target.c: x86-64 with AVX2 (x86-64-v3). The kernel library's bitcode for this
 * target (clang-19 -march=x86-64-v3, see backend/CMakeLists.txt) is embedded here. */
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

CG_DEFINE_TARGET(x86_64, "x86_64-linux-gnu", "x86-64-v3", init, 1)
