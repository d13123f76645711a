/* backend/x86/target.c: x86-64 with AVX2 (x86-64-v3). The kernel library's bitcode for
 * this target (clang-19 -march=x86-64-v3, see CMakeLists.txt) is embedded here. */
#include "../target.h"

#include <llvm-c/Target.h>

/* SQC_KERNELS_BC: the bitcode file as a C string literal (CMakeLists.txt) */
__asm__(".section .rodata\n"
        ".balign 16\n"
        "sqc_kernels_x86_64_bc:\n"
        ".incbin \"" SQC_KERNELS_BC "\"\n"
        "sqc_kernels_x86_64_bc_end:\n"
        ".previous\n");
extern const unsigned char sqc_kernels_x86_64_bc[] __asm__("sqc_kernels_x86_64_bc");
extern const unsigned char sqc_kernels_x86_64_bc_end[] __asm__("sqc_kernels_x86_64_bc_end");

static void init(void)
{
	LLVMInitializeX86TargetInfo();
	LLVMInitializeX86Target();
	LLVMInitializeX86TargetMC();
	LLVMInitializeX86AsmPrinter();
	LLVMInitializeX86AsmParser();
}

const CgTarget *cg_target_x86_64(void)
{
	static const CgTarget t = {
		"x86_64-linux-gnu", "x86-64-v3", NULL, sqc_kernels_x86_64_bc, 0, init, cg_cpus_x86_64,
	};
	static CgTarget r;
	r = t;
	r.bc_size = (size_t)(sqc_kernels_x86_64_bc_end - sqc_kernels_x86_64_bc);
	return &r;
}
