# MACs per iteration: 2048 (2 pixels x 16 channels x 64 bits: ternary weights by select, (V and (T+ xor T-)) xor T-, 4 groups of 4 channels with the (T+ xor T-) nibbles at +0/+32 and the T- nibbles at +64/+96; one activation plane: W2A1; for A_B divide by B; byte counters, widening not in the loop)
.L0:
vpbroadcastq (%rsi), %ymm0
vpbroadcastq (%rdx), %ymm2
vpsrlw $4, %ymm0, %ymm1
vpand %ymm14, %ymm1, %ymm1
vpand %ymm14, %ymm0, %ymm0
vpsrlw $4, %ymm2, %ymm3
vpand %ymm14, %ymm3, %ymm3
vpand %ymm14, %ymm2, %ymm2
vpand 0(%rdi), %ymm0, %ymm12
vpand 32(%rdi), %ymm1, %ymm13
vpxor 64(%rdi), %ymm12, %ymm12
vpxor 96(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm4, %ymm4
vpaddb %ymm13, %ymm4, %ymm4
vpand 0(%rdi), %ymm2, %ymm12
vpand 32(%rdi), %ymm3, %ymm13
vpxor 64(%rdi), %ymm12, %ymm12
vpxor 96(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm5, %ymm5
vpaddb %ymm13, %ymm5, %ymm5
vpand 128(%rdi), %ymm0, %ymm12
vpand 160(%rdi), %ymm1, %ymm13
vpxor 192(%rdi), %ymm12, %ymm12
vpxor 224(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm6, %ymm6
vpaddb %ymm13, %ymm6, %ymm6
vpand 128(%rdi), %ymm2, %ymm12
vpand 160(%rdi), %ymm3, %ymm13
vpxor 192(%rdi), %ymm12, %ymm12
vpxor 224(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm7, %ymm7
vpaddb %ymm13, %ymm7, %ymm7
vpand 256(%rdi), %ymm0, %ymm12
vpand 288(%rdi), %ymm1, %ymm13
vpxor 320(%rdi), %ymm12, %ymm12
vpxor 352(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm8, %ymm8
vpaddb %ymm13, %ymm8, %ymm8
vpand 256(%rdi), %ymm2, %ymm12
vpand 288(%rdi), %ymm3, %ymm13
vpxor 320(%rdi), %ymm12, %ymm12
vpxor 352(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm9, %ymm9
vpaddb %ymm13, %ymm9, %ymm9
vpand 384(%rdi), %ymm0, %ymm12
vpand 416(%rdi), %ymm1, %ymm13
vpxor 448(%rdi), %ymm12, %ymm12
vpxor 480(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm10, %ymm10
vpaddb %ymm13, %ymm10, %ymm10
vpand 384(%rdi), %ymm2, %ymm12
vpand 416(%rdi), %ymm3, %ymm13
vpxor 448(%rdi), %ymm12, %ymm12
vpxor 480(%rdi), %ymm13, %ymm13
vpshufb %ymm12, %ymm15, %ymm12
vpshufb %ymm13, %ymm15, %ymm13
vpaddb %ymm12, %ymm11, %ymm11
vpaddb %ymm13, %ymm11, %ymm11
addq $8, %rsi
addq $8, %rdx
addq $512, %rdi
decq %rcx
jnz .L0
