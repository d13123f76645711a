// bench/ort_speed.js: microseconds per image of ONNX Runtime's CPU build (npm
// onnxruntime-node 1.20.1, installed by bench/ort_setup.sh), batch 1, float input.
//   node bench/ort_speed.js MODEL.onnx N [THREADS] [SHAPE]     prints "us_per_image X"
// THREADS: intra-op threads (default 1); SHAPE: the input's shape as a comma list (default
// 1,1,28,28, the fixtures' and bench/ort_speed.sh's models).
const path = require('path');
const ort = require(path.join(process.env.ORT_DIR || '.', 'node_modules', 'onnxruntime-node'));
(async () => {
  const [model, n] = [process.argv[2], parseInt(process.argv[3], 10)];
  const threads = process.argv[4] ? parseInt(process.argv[4], 10) : 1;
  const shape = (process.argv[5] || '1,1,28,28').split(',').map((d) => parseInt(d, 10));
  if (!(n >= 1) || !(threads >= 1) || shape.some((d) => !(d >= 1)))
    throw new Error('usage: node ort_speed.js MODEL.onnx N [THREADS] [SHAPE]');
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all' });
  const name = s.inputNames[0];
  const size = shape.reduce((a, d) => a * d, 1);
  const data = Float32Array.from({ length: size }, () => Math.random() * 2 - 1);
  const feed = { [name]: new ort.Tensor('float32', data, shape) };
  await s.run(feed); // warm
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await s.run(feed);
  const t1 = process.hrtime.bigint();
  console.log(`us_per_image ${(Number(t1 - t0) / 1e3 / n).toFixed(2)}`);
})().catch((e) => { console.error(e); process.exit(1); });
