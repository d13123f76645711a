# MACs per iteration: 8192 (4 pixels x 32 channels x 64 bits: 4 broadcast 64-bit activation words, 4 weight vectors of 8 channel words, 16 XOR + vpopcntq; binary weights, one activation plane: W1A1; for A_B divide by B)
.L0:
vpbroadcastq 0(%rsi), %zmm24
vpbroadcastq 8(%rsi), %zmm25
vpbroadcastq 16(%rsi), %zmm26
vpbroadcastq 24(%rsi), %zmm27
vpxorq 0(%rdi), %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm0, %zmm0
vpxorq 0(%rdi), %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm1, %zmm1
vpxorq 0(%rdi), %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm2, %zmm2
vpxorq 0(%rdi), %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm3, %zmm3
vpxorq 64(%rdi), %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm4, %zmm4
vpxorq 64(%rdi), %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm5, %zmm5
vpxorq 64(%rdi), %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm6, %zmm6
vpxorq 64(%rdi), %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm7, %zmm7
vpxorq 128(%rdi), %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm8, %zmm8
vpxorq 128(%rdi), %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm9, %zmm9
vpxorq 128(%rdi), %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm10, %zmm10
vpxorq 128(%rdi), %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm11, %zmm11
vpxorq 192(%rdi), %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm12, %zmm12
vpxorq 192(%rdi), %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm13, %zmm13
vpxorq 192(%rdi), %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm14, %zmm14
vpxorq 192(%rdi), %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm15, %zmm15
addq $32, %rsi
addq $256, %rdi
decq %rcx
jnz .L0
