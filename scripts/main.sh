#!/usr/bin/env bash
# The main job: build sqc, evaluate the bundled float LeNet-5 on Fashion-MNIST, then
# compile it with Smart Quantization (fine-tuning to 1- or 2-bit weights per layer) into a
# shared object with bit-serial/sign-select kernels, and evaluate the compiled code next
# to the interpreter on the same fine-tuned model. Outputs go to out/.
#   scripts/main.sh            everything (about 3 minutes on 2 cores)
#   SQC_MAIN_FLOAT_ONLY=1 ...  only the float evaluation
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target sqc
model=models/lenet5.onnx
cfg=models/lenet5.yaml
echo "== sqc eval $model --config $cfg   (float; PyTorch recorded $(sed -n 's/^# pytorch_accuracy: //p' $cfg))"
build/sqc eval "$model" --config "$cfg"
[ -n "${SQC_MAIN_FLOAT_ONLY:-}" ] && exit 0
mkdir -p out
echo "== sqc $model --config $cfg --quant=sq -o out/lenet5.so --emit-header out/lenet5.h -v"
build/sqc "$model" --config "$cfg" --quant=sq -o out/lenet5.so --emit-header out/lenet5.h \
  --save-onnx out/lenet5_sq.onnx --report out/report.json -v
echo "== sqc eval out/lenet5.so   (the compiled code)"
build/sqc eval out/lenet5.so --config "$cfg"
echo "== sqc eval out/lenet5_sq.onnx   (the same fine-tuned model in the interpreter)"
build/sqc eval out/lenet5_sq.onnx --config "$cfg" -q
echo "== sizes: float model $(stat -c %s "$model") bytes, out/lenet5.so $(stat -c %s out/lenet5.so) bytes"
echo "== report (out/report.json)"
cat out/report.json
