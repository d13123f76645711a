/* backend/target.h: what the backend knows about a target (one per backend/<target>/). */
#ifndef SQC_BACKEND_TARGET_H
#define SQC_BACKEND_TARGET_H

#include <stddef.h>

/* A kernel level: the kernel library compiled for one ISA level of the target
 * (backend/CMakeLists.txt: RTK_LEVELS_<target>, RTK_FLAGS_<target>_<level>). */
typedef struct {
	const char *name;           /* as -v and the docs say it: "x86-64-v3", "avx512", ... */
	const char *what;           /* its instruction sets, for messages */
	const char *need;           /* LLVM features a CPU needs for it, "+a,+b" ("" for all) */
	const unsigned char *bc;    /* the kernel library as LLVM bitcode, embedded */
	size_t bc_size;
	int bs_nib;                 /* rtk_bconv's weight layout its SIMD path reads (kernels.h) */
} CgLevel;

/* A CPU LLVM knows and the highest kernel level it has (index into CgTarget.levels; from
 * backend/cpus.sh at build time). */
typedef struct {
	const char *name;
	int level;
} CgCpu;

#define CG_MAXLEVELS 3
typedef struct {
	const char *triple;         /* as given to --target and to LLVM */
	const char *cpu;            /* default --mcpu */
	void (*init)(void);         /* registers the LLVM target (info, MC, asm printer) */
	const CgCpu *cpus;          /* the CPUs LLVM knows for it (name NULL ends) */
	int nlevels;
	CgLevel levels[CG_MAXLEVELS]; /* [0]: the default level, which every CPU of cpus has;
	                                 a higher one is chosen over a lower one */
} CgTarget;

extern const CgCpu cg_cpus_x86_64[], cg_cpus_aarch64[];

/* Embeds the bitcode file FILE (a C string literal from CMakeLists.txt) as sqc_kernels_ID_bc
 * .. sqc_kernels_ID_bc_end; CG_BC(ID) gives its pointer and size for a CgLevel. */
#define CG_EMBED(ID, FILE)                                                                  \
	__asm__(".section .rodata\n.balign 16\nsqc_kernels_" #ID "_bc:\n"                       \
	        ".incbin \"" FILE "\"\nsqc_kernels_" #ID "_bc_end:\n.previous\n");              \
	extern const unsigned char sqc_kernels_##ID##_bc[] __asm__("sqc_kernels_" #ID "_bc");     \
	extern const unsigned char sqc_kernels_##ID##_bc_end[] __asm__("sqc_kernels_" #ID "_bc_end");
#define CG_BC(ID) sqc_kernels_##ID##_bc, (size_t)(sqc_kernels_##ID##_bc_end - sqc_kernels_##ID##_bc)

const CgTarget *cg_target_x86_64(void);
const CgTarget *cg_target_aarch64(void);

#endif
