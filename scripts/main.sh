#!/usr/bin/env bash
# The main job: build sqc, evaluate the bundled float LeNet-5 on Fashion-MNIST, then
# fine-tune it with Smart Quantization (1- or 2-bit weights per layer) and evaluate that.
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
report=$(mktemp --suffix=.json)
trap 'rm -f "$report"' EXIT
echo "== sqc eval $model --config $cfg --quant=sq --report report.json"
build/sqc eval "$model" --config "$cfg" --quant=sq --report "$report"
echo "== report"
cat "$report"
