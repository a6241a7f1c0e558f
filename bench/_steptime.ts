import { loadNativeEngine } from '../src/engine/native/native-engine.js';
import { initWeights } from '../src/nn/init.js';
import { presetSpec } from '../src/nn/presets.js';
import { bnnetSpec } from '../bench/nets.js';
import { Rng } from '../src/random/rng.js';
const engine = await loadNativeEngine({});
async function time(label: string, spec: any, batch: number, opts: any, loss?: any) {
  const network = await engine.compile(spec, { ...(loss ? { loss } : {}), ...opts.compile });
  await network.setWeights(initWeights(network.spec, 1));
  const rng = new Rng(2, 'b');
  const x = new Float32Array(batch * network.spec.inputSize).map(() => rng.next());
  const y = new Float32Array(batch * 136).map(() => rng.uniform(-1, 1));
  await network.trainStep(x, y, { ...opts.hyper, dropoutSeed: 1 });
  const t = performance.now();
  for (let i = 0; i < 4; i++) await network.trainStep(x, y, { ...opts.hyper, dropoutSeed: 1 });
  console.log(label, batch, ((performance.now() - t) / 4).toFixed(0), 'ms');
}
const nest = { hyper: { learningRate: 0.01, momentum: 0.9 }, compile: {} };
await time('bnnet nesterov', bnnetSpec(136), 128, nest);
await time('conv8 nesterov', presetSpec('conv8-bn-aug', 136), 128, nest);
await time('conv8 nesterov', presetSpec('conv8-bn-aug', 136), 64, nest);
const adam = { hyper: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, compile: { optimizer: 'adam' } };
await time('conv8 adam', presetSpec('conv8-bn-aug', 136), 64, adam);
