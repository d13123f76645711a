# MACs per iteration: 256 (2 positions x 4 channels x 32 taps: two 32-byte activation rows, four 32-byte weight rows, 8 vpmaddubsw x 32 byte products; i16 accumulators, widening not in the loop)
.L0:
vmovdqu (%rsi,%rax), %ymm0
vmovdqu (%rdx,%rax), %ymm1
vmovdqu 0(%r8,%rax), %ymm2
vpmaddubsw %ymm2, %ymm0, %ymm3
vpaddw %ymm3, %ymm4, %ymm4
vpmaddubsw %ymm2, %ymm1, %ymm3
vpaddw %ymm3, %ymm5, %ymm5
vmovdqu 0(%r9,%rax), %ymm2
vpmaddubsw %ymm2, %ymm0, %ymm3
vpaddw %ymm3, %ymm6, %ymm6
vpmaddubsw %ymm2, %ymm1, %ymm3
vpaddw %ymm3, %ymm7, %ymm7
vmovdqu 0(%r10,%rax), %ymm2
vpmaddubsw %ymm2, %ymm0, %ymm3
vpaddw %ymm3, %ymm8, %ymm8
vpmaddubsw %ymm2, %ymm1, %ymm3
vpaddw %ymm3, %ymm9, %ymm9
vmovdqu 0(%r11,%rax), %ymm2
vpmaddubsw %ymm2, %ymm0, %ymm3
vpaddw %ymm3, %ymm10, %ymm10
vpmaddubsw %ymm2, %ymm1, %ymm3
vpaddw %ymm3, %ymm11, %ymm11
addq $32, %rax
cmpq %rcx, %rax
jb .L0
