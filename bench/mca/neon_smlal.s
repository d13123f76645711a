# MACs per iteration: 128 (2 rows x 4 rows x 16 bytes, read as 2 positions (x1, x2) x 4 channels (x3..x6) x 16 taps as avx2_i8_today.s; 16 smlal/smlal2 x 8 products; i16 accumulators, widening not in the loop)
.L0:
ldr q16, [x1], #16
ldr q17, [x2], #16
ldr q20, [x3], #16
smlal v0.8h, v16.8b, v20.8b
smlal2 v0.8h, v16.16b, v20.16b
smlal v1.8h, v17.8b, v20.8b
smlal2 v1.8h, v17.16b, v20.16b
ldr q21, [x4], #16
smlal v2.8h, v16.8b, v21.8b
smlal2 v2.8h, v16.16b, v21.16b
smlal v3.8h, v17.8b, v21.8b
smlal2 v3.8h, v17.16b, v21.16b
ldr q22, [x5], #16
smlal v4.8h, v16.8b, v22.8b
smlal2 v4.8h, v16.16b, v22.16b
smlal v5.8h, v17.8b, v22.8b
smlal2 v5.8h, v17.16b, v22.16b
ldr q23, [x6], #16
smlal v6.8h, v16.8b, v23.8b
smlal2 v6.8h, v16.16b, v23.16b
smlal v7.8h, v17.8b, v23.8b
smlal2 v7.8h, v17.16b, v23.16b
subs x9, x9, #1
b.ne .L0
