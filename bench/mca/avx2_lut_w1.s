.L0:
vmovdqu (%rdi), %ymm8
vpsrlw $4, %ymm8, %ymm9
vpand %ymm15, %ymm8, %ymm8
vpand %ymm15, %ymm9, %ymm9
vbroadcasti128 0(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm0, %ymm0
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm1, %ymm1
vbroadcasti128 16(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm2, %ymm2
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm3, %ymm3
vbroadcasti128 32(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm4, %ymm4
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm5, %ymm5
vbroadcasti128 48(%rsi), %ymm12
vpshufb %ymm8, %ymm12, %ymm13
vpaddb %ymm13, %ymm6, %ymm6
vpshufb %ymm9, %ymm12, %ymm13
vpaddb %ymm13, %ymm7, %ymm7
addq $64, %rsi
addq $32, %rdi
decq %rcx
jnz .L0
