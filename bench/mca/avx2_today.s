# MACs per iteration: 256 (1 position x 1 channel x 256 bits of one weight plane AND one activation plane; that is W1A1; for A_B divide by B (one iteration per activation plane), for ternary weights by 2 more (T+ and T- each popcounted): W2A1 128, W2A2 64; the vpsadbw/hsum per (output, plane) is outside the loop)
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
