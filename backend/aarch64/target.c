/* backend/aarch64/target.c: AArch64 with NEON (armv8-a). The kernel library's bitcode for
 * this target (clang-19 -march=armv8-a, see CMakeLists.txt) is embedded here. */
#include "../target.h"

#include <llvm-c/Target.h>

/* SQC_KERNELS_BC: the bitcode file as a C string literal (CMakeLists.txt) */
__asm__(".section .rodata\n"
        ".balign 16\n"
        "sqc_kernels_aarch64_bc:\n"
        ".incbin \"" SQC_KERNELS_BC "\"\n"
        "sqc_kernels_aarch64_bc_end:\n"
        ".previous\n");
extern const unsigned char sqc_kernels_aarch64_bc[] __asm__("sqc_kernels_aarch64_bc");
extern const unsigned char sqc_kernels_aarch64_bc_end[] __asm__("sqc_kernels_aarch64_bc_end");

static void init(void)
{
	LLVMInitializeAArch64TargetInfo();
	LLVMInitializeAArch64Target();
	LLVMInitializeAArch64TargetMC();
	LLVMInitializeAArch64AsmPrinter();
	LLVMInitializeAArch64AsmParser();
}

const CgTarget *cg_target_aarch64(void)
{
	static const CgTarget t = {
		"aarch64-linux-gnu", "generic", NULL, sqc_kernels_aarch64_bc, 0, init, cg_cpus_aarch64,
	};
	static CgTarget r;
	r = t;
	r.bc_size = (size_t)(sqc_kernels_aarch64_bc_end - sqc_kernels_aarch64_bc);
	return &r;
}
