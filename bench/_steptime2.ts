import { loadNativeEngine } from '../src/engine/native/native-engine.js';
import { initWeights } from '../src/nn/init.js';
import { Rng } from '../src/random/rng.js';
import { forwardFlops } from './nets.js';
const engine = await loadNativeEngine({});
function net(stack: [number, number][], hidden: number) {
  const layers: any[] = [{ kind: 'input', shape: [1, 96, 96] }];
  for (const [f, s] of stack) {
    layers.push({ kind: 'conv2d', filters: f, kernelSize: 3, padding: 'same', stride: s, activation: 'linear' });
    layers.push({ kind: 'batchnorm', activation: 'relu' });
  }
  layers.push({ kind: 'dense', units: hidden });
  layers.push({ kind: 'dense', units: 136, activation: 'linear' });
  return { layers };
}
async function time(label: string, spec: any, batch: number) {
  const network = await engine.compile(spec, { optimizer: 'adam', loss: { kind: 'wing', w: 0.2, epsilon: 0.04 } } as any);
  await network.setWeights(initWeights(network.spec, 1));
  const rng = new Rng(2, 'b');
  const x = new Float32Array(batch * network.spec.inputSize).map(() => rng.next());
  const y = new Float32Array(batch * 136).map(() => rng.uniform(-1, 1));
  const h = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, dropoutSeed: 1 };
  await network.trainStep(x, y, h);
  const t = performance.now();
  for (let i = 0; i < 4; i++) await network.trainStep(x, y, h);
  const ms = (performance.now() - t) / 4;
  console.log(label, batch, (forwardFlops(spec) / 1e9).toFixed(3), 'GF', ms.toFixed(0), 'ms', (ms / batch).toFixed(2), 'ms/img');
}
const stem: [number, number][] = [[32, 2], [32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [256, 2]];
await time('stem-s2', net(stem, 256), 64);
await time('stem-s2', net(stem, 256), 128);
const stem2: [number, number][] = [[24, 2], [32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [256, 2], [256, 1]];
await time('stem-s2+256', net(stem2, 256), 64);
