/* bench/kernels_spec.c: every benchmark layer x kernel variant of bench/kernels_speed.c
 * as generated code runs it: a wrapper that calls the kernel with a pointer to a constant
 * parameter struct. bench/kernels_speed.sh compiles this file to bitcode, links it with the
 * kernel library bitcode sqc embeds (build/backend/kernels_x86_64_LEVEL.bc), and then does what
 * backend/emit.c does to a model: every kernel function internal and alwaysinline,
 * default<O3>, code generation at -O3 for the level. So each wrapper holds its own copy
 * of the kernel with every shape, stride and padding folded to a constant.
 * (In generated code the weights, scales and biases are constant globals too and x, y,
 * scratch are constant offsets into the workspace; here they are arguments.) */
#include <stdint.h>

#include "runtime/kernels/kernels.h"
#include "bench/kernels_layers.h"

#define KS_CALL_F32(q_, c_, m_) rtk_conv_f32(&(q_).g, x, wf, b, y, scr)
#define KS_CALL_BITS(q_, c_, m_) rtk_qconv(&(q_), x, wp, s, b, y, scr)
#define KS_CALL_BCONV(q_, c_, m_) rtk_bconv(&(q_), x, wp, s, b, y, scr)
#define KS_CALL_ICONV(q_, c_, m_) \
	rtk_iconv(&(q_), x, (const int32_t *)(const void *)wp, s, b, y, scr)
#define KS_CALL_GEMM(q_, c_, m_) \
	do { \
		static const RtkGemm gp = {1, (m_), (c_), 0}; \
		rtk_gemm_f32(&gp, x, wf, b, y); \
	} while (0)

#define KS_DEF_V(vid, vname, KIND, binary_, bits_, lid, c_, h_, w_, m_, k_, pad_) \
	void ks_spec_##lid##_##vid(const float *x, const float *wf, const uint64_t *wp, \
	                           const float *s, const float *b, float *y, void *scr); \
	void ks_spec_##lid##_##vid(const float *x, const float *wf, const uint64_t *wp, \
	                           const float *s, const float *b, float *y, void *scr) \
	{ \
		static const RtkQConv q = KS_QCONV(c_, h_, w_, m_, k_, pad_, binary_, bits_); \
		(void)wf, (void)wp, (void)s, (void)scr, (void)q; \
		KS_CALL_##KIND(q, c_, m_); \
	}
#define KS_DEF_L(lid, name, c_, h_, w_, m_, k_, pad_, ...) \
	KS_VARIANTS(KS_DEF_V, lid, c_, h_, w_, m_, k_, pad_)
KS_LAYERS(KS_DEF_L, 0)

#define KS_ENTRY_V(vid, vname, KIND, binary_, bits_, lid) ks_spec_##lid##_##vid,
#define KS_ROW_L(lid, name, c_, h_, w_, m_, k_, pad_, ...) {KS_VARIANTS(KS_ENTRY_V, lid)},
const KsSpecFn ks_spec[KS_NL][KS_NV] = {KS_LAYERS(KS_ROW_L, 0)};
