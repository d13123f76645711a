/* backend/target.h: what the backend knows about a target (one per backend/<target>/). */
#ifndef SQC_BACKEND_TARGET_H
#define SQC_BACKEND_TARGET_H

#include <stddef.h>

typedef struct {
	const char *triple;         /* as given to --target and to LLVM */
	const char *cpu;            /* default --mcpu */
	const char *features;       /* LLVM feature string the kernels were compiled with */
	const unsigned char *bc;    /* the kernel library as LLVM bitcode, embedded */
	size_t bc_size;
	void (*init)(void);         /* registers the LLVM target (info, MC, asm printer) */
	const char *const *cpus;    /* the CPU names LLVM knows for it (NULL-terminated) */
	int bs_nib;                 /* rtk_bconv's weight layout its SIMD path reads (kernels.h) */
} CgTarget;

extern const char *const cg_cpus_x86_64[], *const cg_cpus_aarch64[];

/* Defines cg_target_ID(): the target's bitcode embedded from the file SQC_KERNELS_BC (a C
 * string literal, from CMakeLists.txt) and its description. One line per target file. */
#define CG_DEFINE_TARGET(ID, TRIPLE, CPU, INIT, NIB)                                        \
	__asm__(".section .rodata\n.balign 16\nsqc_kernels_" #ID "_bc:\n"                       \
	        ".incbin \"" SQC_KERNELS_BC "\"\nsqc_kernels_" #ID "_bc_end:\n.previous\n");     \
	extern const unsigned char sqc_kernels_##ID##_bc[] __asm__("sqc_kernels_" #ID "_bc");     \
	extern const unsigned char sqc_kernels_##ID##_bc_end[] __asm__("sqc_kernels_" #ID "_bc_end"); \
	const CgTarget *cg_target_##ID(void)                                                    \
	{                                                                                       \
		static CgTarget t;                                                              \
		t = (CgTarget){TRIPLE, CPU, NULL, sqc_kernels_##ID##_bc,                        \
		               (size_t)(sqc_kernels_##ID##_bc_end - sqc_kernels_##ID##_bc), INIT, \
		               cg_cpus_##ID, NIB};                                              \
		return &t;                                                                      \
	}

const CgTarget *cg_target_x86_64(void);
const CgTarget *cg_target_aarch64(void);

#endif
