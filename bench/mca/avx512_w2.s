# MACs per iteration: 8192 (4 pixels x 32 channels x 64 bits: ternary weights, 4 vector pairs (+0..192 and +256..448) of 8 channels, 16 vpternlogq + vpopcntq; one activation plane: W2A1; for A_B divide by B. Note: imm 0xe4 with these operands computes zmm16 ? zmm20 : activation (the selector is the weight at +0; checked on this CPU), not the plan's V ? T+ : T-, which is imm 0xe2 here (activation ? zmm20 : zmm16); same instruction and cost, so the count stands)
.L0:
vpbroadcastq 0(%rsi), %zmm24
vpbroadcastq 8(%rsi), %zmm25
vpbroadcastq 16(%rsi), %zmm26
vpbroadcastq 24(%rsi), %zmm27
vmovdqa64 %zmm20, %zmm28
vpternlogq $0xe4, %zmm16, %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm0, %zmm0
vmovdqa64 %zmm20, %zmm29
vpternlogq $0xe4, %zmm16, %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm1, %zmm1
vmovdqa64 %zmm20, %zmm30
vpternlogq $0xe4, %zmm16, %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm2, %zmm2
vmovdqa64 %zmm20, %zmm31
vpternlogq $0xe4, %zmm16, %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm3, %zmm3
vmovdqa64 %zmm21, %zmm28
vpternlogq $0xe4, %zmm17, %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm4, %zmm4
vmovdqa64 %zmm21, %zmm29
vpternlogq $0xe4, %zmm17, %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm5, %zmm5
vmovdqa64 %zmm21, %zmm30
vpternlogq $0xe4, %zmm17, %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm6, %zmm6
vmovdqa64 %zmm21, %zmm31
vpternlogq $0xe4, %zmm17, %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm7, %zmm7
vmovdqa64 %zmm22, %zmm28
vpternlogq $0xe4, %zmm18, %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm8, %zmm8
vmovdqa64 %zmm22, %zmm29
vpternlogq $0xe4, %zmm18, %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm9, %zmm9
vmovdqa64 %zmm22, %zmm30
vpternlogq $0xe4, %zmm18, %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm10, %zmm10
vmovdqa64 %zmm22, %zmm31
vpternlogq $0xe4, %zmm18, %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm11, %zmm11
vmovdqa64 %zmm23, %zmm28
vpternlogq $0xe4, %zmm19, %zmm24, %zmm28
vpopcntq %zmm28, %zmm28
vpaddq %zmm28, %zmm12, %zmm12
vmovdqa64 %zmm23, %zmm29
vpternlogq $0xe4, %zmm19, %zmm25, %zmm29
vpopcntq %zmm29, %zmm29
vpaddq %zmm29, %zmm13, %zmm13
vmovdqa64 %zmm23, %zmm30
vpternlogq $0xe4, %zmm19, %zmm26, %zmm30
vpopcntq %zmm30, %zmm30
vpaddq %zmm30, %zmm14, %zmm14
vmovdqa64 %zmm23, %zmm31
vpternlogq $0xe4, %zmm19, %zmm27, %zmm31
vpopcntq %zmm31, %zmm31
vpaddq %zmm31, %zmm15, %zmm15
vmovdqu64 0(%rdi), %zmm16
vmovdqu64 256(%rdi), %zmm20
vmovdqu64 64(%rdi), %zmm17
vmovdqu64 320(%rdi), %zmm21
vmovdqu64 128(%rdi), %zmm18
vmovdqu64 384(%rdi), %zmm22
vmovdqu64 192(%rdi), %zmm19
vmovdqu64 448(%rdi), %zmm23
addq $32, %rsi
addq $512, %rdi
decq %rcx
jnz .L0
