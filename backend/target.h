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
} CgTarget;

extern const char *const cg_cpus_x86_64[], *const cg_cpus_aarch64[];

const CgTarget *cg_target_x86_64(void);
const CgTarget *cg_target_aarch64(void);

#endif
