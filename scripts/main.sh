#!/usr/bin/env bash
# The main job: build sqc, import the bundled model, show its IR, run it on a sample input.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target sqc
model=tests/models/cnn_bn_op13.onnx
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== sqc $model --emit=ir"
build/sqc "$model" --emit=ir
echo "== sqc run $model --input ${model%.onnx}.in.npy -o out.npy"
build/sqc run "$model" --input "${model%.onnx}.in.npy" -o "$out/out.npy"
echo "wrote $(stat -c %s "$out/out.npy") bytes of output; logits:"
od -A n -t f4 -j 128 "$out/out.npy"
