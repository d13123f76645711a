// bench/ort_speed.js: microseconds per image of ONNX Runtime's CPU build (npm
// onnxruntime-node 1.20.1, installed by bench/ort_speed.sh), one intra-op thread, batch 1.
//   node bench/ort_speed.js MODEL.onnx N     prints "us_per_image X"
const path = require('path');
const ort = require(path.join(process.env.ORT_DIR || '.', 'node_modules', 'onnxruntime-node'));
(async () => {
  const [model, n] = [process.argv[2], parseInt(process.argv[3], 10)];
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all' });
  const name = s.inputNames[0];
  // every model bench/ort_speed.sh times (lenet5, vgg7s, resnet) has input [batch, 1, 28, 28]
  const data = Float32Array.from({ length: 784 }, () => Math.random() * 2 - 1);
  const feed = { [name]: new ort.Tensor('float32', data, [1, 1, 28, 28]) };
  await s.run(feed); // warm
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await s.run(feed);
  const t1 = process.hrtime.bigint();
  console.log(`us_per_image ${(Number(t1 - t0) / 1e3 / n).toFixed(2)}`);
})().catch((e) => { console.error(e); process.exit(1); });
