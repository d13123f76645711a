# MACs per iteration: 96 (4 pixels x 24 channels x 1 tap: 3 weight vectors of 8 float channels, 4 broadcast pixel values, 12 FMAs x 8 lanes)
# (the weight pointer step of 4 bytes is a placeholder: the loop loads 96 bytes of weights; llvm-mca's throughput does not depend on it)
.L0:
vmovups (%rsi), %ymm12
vmovups 32(%rsi), %ymm13
vmovups 64(%rsi), %ymm14
vbroadcastss 0(%rdi), %ymm15
vfmadd231ps %ymm12, %ymm15, %ymm0
vfmadd231ps %ymm13, %ymm15, %ymm1
vfmadd231ps %ymm14, %ymm15, %ymm2
vbroadcastss 4(%rdi), %ymm15
vfmadd231ps %ymm12, %ymm15, %ymm3
vfmadd231ps %ymm13, %ymm15, %ymm4
vfmadd231ps %ymm14, %ymm15, %ymm5
vbroadcastss 8(%rdi), %ymm15
vfmadd231ps %ymm12, %ymm15, %ymm6
vfmadd231ps %ymm13, %ymm15, %ymm7
vfmadd231ps %ymm14, %ymm15, %ymm8
vbroadcastss 12(%rdi), %ymm15
vfmadd231ps %ymm12, %ymm15, %ymm9
vfmadd231ps %ymm13, %ymm15, %ymm10
vfmadd231ps %ymm14, %ymm15, %ymm11
addq $4, %rsi
addq $16, %rdi
decq %rcx
jnz .L0
