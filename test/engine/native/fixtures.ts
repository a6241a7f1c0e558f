/**
 * Shared pieces of the native engine's tests: the skip reason when the addon
 * is not built, seeded random batches and weights.
 */
import type { NamedTensor } from '../../../src/engine/engine.js';
import { initWeights } from '../../../src/nn/init.js';
import { resolveSpec, type NetworkSpec, type ResolvedSpec } from '../../../src/nn/spec.js';
import { Rng } from '../../../src/random/rng.js';

/** `false` when the addon loads, else the skip message; a failure under FACEPOINTS_REQUIRE_NATIVE=1. */
export { skipNative } from '../../engines.js';

export function randomArray(length: number, rng: Rng, low = -1, high = 1): Float32Array {
  const data = new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = rng.uniform(low, high);
  return data;
}

/** Glorot weights plus small random biases, so bias paths are exercised too. */
export function randomWeights(spec: ResolvedSpec, seed: number): NamedTensor[] {
  const rng = new Rng(seed, 'test-bias');
  return initWeights(spec, seed).map((t) =>
    t.name.endsWith('.b') ? { ...t, data: randomArray(t.data.length, rng, -0.1, 0.1) } : t,
  );
}

export interface Batch {
  x: Float32Array;
  y: Float32Array;
}

export function randomBatch(spec: ResolvedSpec, n: number, seed: number, missing = 0): Batch {
  const rng = new Rng(seed, 'test-batch');
  const x = randomArray(n * spec.inputSize, rng, 0, 1);
  const y = randomArray(n * spec.outputSize, rng);
  for (let i = 0; i < y.length; i++) if (rng.next() < missing) y[i] = NaN;
  return { x, y };
}

export function resolved(spec: NetworkSpec): ResolvedSpec {
  return resolveSpec(spec);
}
