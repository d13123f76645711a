.L0:
vmovdqu (%rsi,%rax), %ymm0
vpand (%rdi,%rax), %ymm0, %ymm0
vpsrlw $4, %ymm0, %ymm1
vpand %ymm14, %ymm0, %ymm0
vpand %ymm14, %ymm1, %ymm1
vpshufb %ymm0, %ymm15, %ymm0
vpshufb %ymm1, %ymm15, %ymm1
vpaddb %ymm0, %ymm1, %ymm0
vpaddb %ymm0, %ymm2, %ymm2
addq $32, %rax
cmpq %rcx, %rax
jb .L0
