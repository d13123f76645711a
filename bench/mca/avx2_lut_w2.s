# MACs per iteration: 1024 (ambiguous, read as avx2_lut_w1.s: 4 pixels x 64 channels x 4 input channels, with two weight planes (+0 and +32) per output looked up in the same table and added to the same accumulators; as written the second plane gets no sign or scale (no negated or doubled table), so it models the cost of 2-bit weights (2 lookups per output group), not a finished kernel)
.L0:
vmovdqu (%rdi), %ymm8
vpsrlw $4, %ymm8, %ymm9
vpand %ymm15, %ymm8, %ymm8
vpand %ymm15, %ymm9, %ymm9
vmovdqu 32(%rdi), %ymm10
vpsrlw $4, %ymm10, %ymm11
vpand %ymm15, %ymm10, %ymm10
vpand %ymm15, %ymm11, %ymm11
vbroadcasti128 0(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm0, %ymm0
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm1, %ymm1
vpshufb %ymm10, %ymm12, %ymm13
vpaddb %ymm13, %ymm0, %ymm0
vpshufb %ymm11, %ymm12, %ymm13
vpaddb %ymm13, %ymm1, %ymm1
vbroadcasti128 16(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm2, %ymm2
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm3, %ymm3
vpshufb %ymm10, %ymm12, %ymm13
vpaddb %ymm13, %ymm2, %ymm2
vpshufb %ymm11, %ymm12, %ymm13
vpaddb %ymm13, %ymm3, %ymm3
vbroadcasti128 32(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm4, %ymm4
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm5, %ymm5
vpshufb %ymm10, %ymm12, %ymm13
vpaddb %ymm13, %ymm4, %ymm4
vpshufb %ymm11, %ymm12, %ymm13
vpaddb %ymm13, %ymm5, %ymm5
vbroadcasti128 48(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm6, %ymm6
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm7, %ymm7
vpshufb %ymm10, %ymm12, %ymm13
vpaddb %ymm13, %ymm6, %ymm6
vpshufb %ymm11, %ymm12, %ymm13
vpaddb %ymm13, %ymm7, %ymm7
addq $64, %rsi
addq $64, %rdi
decq %rcx
jnz .L0
