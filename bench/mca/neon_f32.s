# MACs per iteration: 96 (4 pixels x 24 channels x 1 tap: 6 weight vectors of 4 float channels, 4 ld1r pixel values, 24 fmla x 4 lanes)
# (the weight pointer step of 4 bytes is a placeholder: the loop loads 96 bytes of weights; llvm-mca's throughput does not depend on it)
.L0:
ldr q24, [x1, #0]
ldr q25, [x1, #16]
ldr q26, [x1, #32]
ldr q27, [x1, #48]
ldr q28, [x1, #64]
ldr q29, [x1, #80]
ld1r {v30.4s}, [x2], #4
fmla v0.4s, v24.4s, v30.4s
fmla v1.4s, v25.4s, v30.4s
fmla v2.4s, v26.4s, v30.4s
fmla v3.4s, v27.4s, v30.4s
fmla v4.4s, v28.4s, v30.4s
fmla v5.4s, v29.4s, v30.4s
ld1r {v30.4s}, [x3], #4
fmla v6.4s, v24.4s, v30.4s
fmla v7.4s, v25.4s, v30.4s
fmla v8.4s, v26.4s, v30.4s
fmla v9.4s, v27.4s, v30.4s
fmla v10.4s, v28.4s, v30.4s
fmla v11.4s, v29.4s, v30.4s
ld1r {v30.4s}, [x4], #4
fmla v12.4s, v24.4s, v30.4s
fmla v13.4s, v25.4s, v30.4s
fmla v14.4s, v26.4s, v30.4s
fmla v15.4s, v27.4s, v30.4s
fmla v16.4s, v28.4s, v30.4s
fmla v17.4s, v29.4s, v30.4s
ld1r {v30.4s}, [x5], #4
fmla v18.4s, v24.4s, v30.4s
fmla v19.4s, v25.4s, v30.4s
fmla v20.4s, v26.4s, v30.4s
fmla v21.4s, v27.4s, v30.4s
fmla v22.4s, v28.4s, v30.4s
fmla v23.4s, v29.4s, v30.4s
add x1, x1, #4
subs x9, x9, #1
b.ne .L0
