# MACs per iteration: 2048 (4 pixels x 8 channels x 64 bits: ternary weights by select, (V and (T+ xor T-)) xor T-, 4 vector pairs of 2 channel words; one activation plane: W2A1; for A_B divide by B)
.L0:
and v0.16b, v16.16b, v20.16b
eor v0.16b, v0.16b, v24.16b
and v1.16b, v17.16b, v20.16b
eor v1.16b, v1.16b, v24.16b
and v2.16b, v18.16b, v20.16b
eor v2.16b, v2.16b, v24.16b
and v3.16b, v19.16b, v20.16b
eor v3.16b, v3.16b, v24.16b
and v4.16b, v16.16b, v21.16b
eor v4.16b, v4.16b, v25.16b
and v5.16b, v17.16b, v21.16b
eor v5.16b, v5.16b, v25.16b
and v6.16b, v18.16b, v21.16b
eor v6.16b, v6.16b, v25.16b
and v7.16b, v19.16b, v21.16b
eor v7.16b, v7.16b, v25.16b
and v8.16b, v16.16b, v22.16b
eor v8.16b, v8.16b, v26.16b
and v9.16b, v17.16b, v22.16b
eor v9.16b, v9.16b, v26.16b
and v10.16b, v18.16b, v22.16b
eor v10.16b, v10.16b, v26.16b
and v11.16b, v19.16b, v22.16b
eor v11.16b, v11.16b, v26.16b
and v12.16b, v16.16b, v23.16b
eor v12.16b, v12.16b, v27.16b
and v13.16b, v17.16b, v23.16b
eor v13.16b, v13.16b, v27.16b
and v14.16b, v18.16b, v23.16b
eor v14.16b, v14.16b, v27.16b
and v15.16b, v19.16b, v23.16b
eor v15.16b, v15.16b, v27.16b
cnt v0.16b, v0.16b
cnt v1.16b, v1.16b
cnt v2.16b, v2.16b
cnt v3.16b, v3.16b
cnt v4.16b, v4.16b
cnt v5.16b, v5.16b
cnt v6.16b, v6.16b
cnt v7.16b, v7.16b
cnt v8.16b, v8.16b
cnt v9.16b, v9.16b
cnt v10.16b, v10.16b
cnt v11.16b, v11.16b
cnt v12.16b, v12.16b
cnt v13.16b, v13.16b
cnt v14.16b, v14.16b
cnt v15.16b, v15.16b
addp v0.16b, v0.16b, v4.16b
addp v8.16b, v8.16b, v12.16b
addp v1.16b, v1.16b, v5.16b
addp v9.16b, v9.16b, v13.16b
addp v2.16b, v2.16b, v6.16b
addp v10.16b, v10.16b, v14.16b
addp v3.16b, v3.16b, v7.16b
addp v11.16b, v11.16b, v15.16b
addp v0.16b, v0.16b, v8.16b
addp v1.16b, v1.16b, v9.16b
addp v2.16b, v2.16b, v10.16b
addp v3.16b, v3.16b, v11.16b
uadalp v28.8h, v0.16b
uadalp v29.8h, v1.16b
uadalp v30.8h, v2.16b
uadalp v31.8h, v3.16b
ldr q20, [x0, #0]
ldr q21, [x0, #16]
ldr q22, [x0, #32]
ldr q23, [x0, #48]
ldr q24, [x0, #64]
ldr q25, [x0, #80]
ldr q26, [x0, #96]
ldr q27, [x0, #112]
ld1r {v16.2d}, [x1], #8
ld1r {v17.2d}, [x2], #8
ld1r {v18.2d}, [x3], #8
ld1r {v19.2d}, [x4], #8
add x0, x0, #128
subs x9, x9, #1
b.ne .L0
