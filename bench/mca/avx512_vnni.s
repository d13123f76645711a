# MACs per iteration: 1024 (8 pixels x 32 channels x 4 taps: 8 broadcast dwords of 4 activation bytes, 2 weight vectors of 16 channels x 4 bytes, 16 vpdpbusd x 64 byte products)
.L0:
vmovdqu64 (%rdi), %zmm16
vmovdqu64 64(%rdi), %zmm17
vpbroadcastd 0(%rsi), %zmm18
vpdpbusd %zmm16, %zmm18, %zmm0
vpdpbusd %zmm17, %zmm18, %zmm1
vpbroadcastd 4(%rsi), %zmm19
vpdpbusd %zmm16, %zmm19, %zmm2
vpdpbusd %zmm17, %zmm19, %zmm3
vpbroadcastd 8(%rsi), %zmm20
vpdpbusd %zmm16, %zmm20, %zmm4
vpdpbusd %zmm17, %zmm20, %zmm5
vpbroadcastd 12(%rsi), %zmm21
vpdpbusd %zmm16, %zmm21, %zmm6
vpdpbusd %zmm17, %zmm21, %zmm7
vpbroadcastd 16(%rsi), %zmm22
vpdpbusd %zmm16, %zmm22, %zmm8
vpdpbusd %zmm17, %zmm22, %zmm9
vpbroadcastd 20(%rsi), %zmm23
vpdpbusd %zmm16, %zmm23, %zmm10
vpdpbusd %zmm17, %zmm23, %zmm11
vpbroadcastd 24(%rsi), %zmm24
vpdpbusd %zmm16, %zmm24, %zmm12
vpdpbusd %zmm17, %zmm24, %zmm13
vpbroadcastd 28(%rsi), %zmm25
vpdpbusd %zmm16, %zmm25, %zmm14
vpdpbusd %zmm17, %zmm25, %zmm15
addq $32, %rsi
addq $128, %rdi
decq %rcx
jnz .L0
