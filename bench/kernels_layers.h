/* bench/kernels_layers.h: the layers and kernel variants of bench/kernels_speed.c, as
 * X-macro lists, so that the driver (runtime parameters) and bench/kernels_spec.c (one
 * wrapper per layer and variant with a constant parameter struct, as generated code has)
 * read the same table.
 *
 * KS_LAYERS(X, ...): X(id, name, c, h, w, m, k, pad, ...) - a k x k convolution, stride 1,
 *   dilation 1, one group, padding pad on every side, fused Relu; c -> m channels, h x w.
 * KS_VARIANTS(X, ...): X(id, name, KIND, binary, bits, ...) - KIND is F32 (rtk_conv_f32),
 *   BITS (rtk_qconv), BCONV (rtk_bconv, x86's nibble layout: the weights are the repacked
 *   ones), ICONV (rtk_iconv, on weights repacked by rtk_iconv_repack) or GEMM (rtk_gemm_f32,
 *   one row; fc layers only).
 * The extra arguments are passed through to X. */
#ifndef SQC_BENCH_KERNELS_LAYERS_H
#define SQC_BENCH_KERNELS_LAYERS_H

#define KS_LAYERS(X, ...) \
	X(l0, "vgg 3->32 28x28 k27", 3, 28, 28, 32, 3, 1, __VA_ARGS__) \
	X(l1, "vgg 32->32 28x28 k288", 32, 28, 28, 32, 3, 1, __VA_ARGS__) \
	X(l2, "vgg 32->64 14x14 k288", 32, 14, 14, 64, 3, 1, __VA_ARGS__) \
	X(l3, "vgg 64->64 28x28 k576", 64, 28, 28, 64, 3, 1, __VA_ARGS__) \
	X(l4, "vgg 64->64 14x14 k576", 64, 14, 14, 64, 3, 1, __VA_ARGS__) \
	X(l5, "vgg 64->128 7x7 k576", 64, 7, 7, 128, 3, 1, __VA_ARGS__) \
	X(l6, "vgg 128->128 14x14 k1152", 128, 14, 14, 128, 3, 1, __VA_ARGS__) \
	X(l7, "vgg 128->128 7x7 k1152", 128, 7, 7, 128, 3, 1, __VA_ARGS__) \
	X(l8, "1x1 64->64 14x14 k64", 64, 14, 14, 64, 1, 0, __VA_ARGS__) \
	X(l9, "vgg fc 1152->256", 1152, 1, 1, 256, 1, 0, __VA_ARGS__) \
	X(l10, "lenet c1 1->6 28x28 k25", 1, 28, 28, 6, 5, 2, __VA_ARGS__) \
	X(l11, "lenet c2 6->16 14x14 k150", 6, 14, 14, 16, 5, 0, __VA_ARGS__) \
	X(l12, "lenet fc1 400->120", 400, 1, 1, 120, 1, 0, __VA_ARGS__) \
	X(l13, "lenet fc2 120->84", 120, 1, 1, 84, 1, 0, __VA_ARGS__)

#define KS_VARIANTS(X, ...) \
	X(f32, "f32", F32, 0, 0, __VA_ARGS__) \
	X(w1a1, "bs W1A1", BITS, 1, 1, __VA_ARGS__) \
	X(w2a1, "bs W2A1", BITS, 0, 1, __VA_ARGS__) \
	X(w2a2, "bs W2A2", BITS, 0, 2, __VA_ARGS__) \
	X(w2a4, "bs W2A4", BITS, 0, 4, __VA_ARGS__) \
	X(w2a8, "bs W2A8", BITS, 0, 8, __VA_ARGS__) \
	X(icw2a2, "ic W2A2", ICONV, 0, 2, __VA_ARGS__) \
	X(icw2a8, "ic W2A8", ICONV, 0, 8, __VA_ARGS__) \
	X(icw1a8, "ic W1A8", ICONV, 1, 8, __VA_ARGS__) \
	X(bcw1a1, "bc W1A1", BCONV, 1, 1, __VA_ARGS__) \
	X(bcw1a2, "bc W1A2", BCONV, 1, 2, __VA_ARGS__) \
	X(bcw2a2, "bc W2A2", BCONV, 0, 2, __VA_ARGS__) \
	X(bcw1a4, "bc W1A4", BCONV, 1, 4, __VA_ARGS__) \
	X(bcw2a3, "bc W2A3", BCONV, 0, 3, __VA_ARGS__) \
	X(bcw2a4, "bc W2A4", BCONV, 0, 4, __VA_ARGS__) \
	X(bcw1a8, "bc W1A8", BCONV, 1, 8, __VA_ARGS__) \
	X(bcw2a8, "bc W2A8", BCONV, 0, 8, __VA_ARGS__) \
	X(ssw2, "ss W2f32", BITS, 0, 32, __VA_ARGS__) \
	X(ssw1, "ss W1f32", BITS, 1, 32, __VA_ARGS__) \
	X(gemm, "gemm b1", GEMM, 0, 0, __VA_ARGS__)

#define KS_ONE_(...) +1
#define KS_NL (0 KS_LAYERS(KS_ONE_, 0))
#define KS_NV (0 KS_VARIANTS(KS_ONE_, 0))

/* the constant structs, from a table row (the same expressions as the driver's) */
#define KS_OUT(h_, k_, pad_) ((h_) + 2 * (pad_) - (k_) + 1)
#define KS_CONV(c_, h_, w_, m_, k_, pad_) \
	{(c_), (h_), (w_), (m_), KS_OUT(h_, k_, pad_), KS_OUT(w_, k_, pad_), (k_), (k_), 1, 1, 1, 1, \
	 (pad_), (pad_), 1, 1, 0.0f} /* group 1, relu, no clip */
#ifndef KS_NIB
#define KS_NIB 1 /* rtk_bconv's layout: 1 at x86-64-v3, 0 at avx512 (kernels_speed.sh) */
#endif
#define KS_QCONV(c_, h_, w_, m_, k_, pad_, binary_, bits_) \
	{.g = KS_CONV(c_, h_, w_, m_, k_, pad_), .k = (c_) * (k_) * (k_), \
	 .kwords = 4 * (((c_) * (k_) * (k_) + 255) / 256), .binary = (binary_), .bits = (bits_), \
	 .qn = 0, .qp = (bits_) && (bits_) < 32 ? (1 << (bits_)) - 1 : 0, .step = 0.05f, .nib = KS_NIB}

/* a specialized wrapper: x, wf (float weights), wp (packed), scale, bias, y, scratch */
typedef void (*KsSpecFn)(const float *, const float *, const uint64_t *, const float *,
                         const float *, float *, void *);

#endif
