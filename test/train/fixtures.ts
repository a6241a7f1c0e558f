// Small nets and data for NeuralNet tests: 1x12x12 images, so a fit of a few
// epochs takes well under a second on either engine. The suites run on both
// engines (see ../engines.ts).
import type { Engine, NamedTensor } from '../../src/engine/engine.js';
import { selectEngine } from '../../src/engine/select.js';
import type { NetworkSpec } from '../../src/nn/spec.js';
import { Rng } from '../../src/random/rng.js';
import type { EngineName } from '../engines.js';

export { ENGINES, type EngineName } from '../engines.js';

const engines = new Map<EngineName, Promise<Engine>>();
/** One engine of each kind for the whole test file. */
export function engineFor(name: EngineName): Promise<Engine> {
  if (!engines.has(name)) engines.set(name, selectEngine(name));
  return engines.get(name)!;
}

/** The tfjs engine, for tests of tfjs itself. */
export function tfjsEngine(): Promise<Engine> {
  return engineFor('tfjs');
}

/** A conv net with every layer kind, 6 outputs (3 keypoints). */
export function tinySpec(outputs = 6, options: { dropout?: boolean } = {}): NetworkSpec {
  return {
    layers: [
      { kind: 'input', shape: [1, 12, 12], name: 'input' },
      { kind: 'conv2d', filters: 4, kernelSize: 3, name: 'conv1' },
      { kind: 'maxpool2d', poolSize: 2, name: 'pool1' },
      ...(options.dropout ? [{ kind: 'dropout' as const, rate: 0.2, name: 'dropout1' }] : []),
      { kind: 'dense', units: 16, name: 'hidden4' },
      { kind: 'dense', units: outputs, activation: 'linear', name: 'output' },
    ],
  };
}

/**
 * Images with a bright blob whose position the targets give (scaled to
 * [-1, 1]), so there is something learnable and flips make sense.
 */
export function blobData(count: number, seed: number, outputs = 6): { X: Float32Array; y: Float32Array } {
  const rng = new Rng(seed, 'blobs');
  const X = new Float32Array(count * 144);
  const y = new Float32Array(count * outputs);
  for (let n = 0; n < count; n++) {
    const cx = 2 + rng.int(8);
    const cy = 2 + rng.int(8);
    for (let r = 0; r < 12; r++) {
      for (let c = 0; c < 12; c++) {
        X[n * 144 + r * 12 + c] = Math.exp(-((r - cy) ** 2 + (c - cx) ** 2) / 4) + 0.05 * rng.next();
      }
    }
    for (let k = 0; k < outputs; k += 2) {
      y[n * outputs + k] = (cx + 0.5 - 6) / 6 + 0.1 * (k - 2);
      y[n * outputs + k + 1] = (cy + 0.5 - 6) / 6;
    }
  }
  return { X, y };
}

/** Plain copies of tensors' data, for comparing weights. */
export function dataOf(tensors: NamedTensor[]): Record<string, number[]> {
  return Object.fromEntries(tensors.map((t) => [t.name, [...t.data]]));
}

/** History without durations (they differ between runs). */
export function losses(history: { epoch: number; trainLoss: number; validLoss: number }[]): number[][] {
  return history.map((r) => [r.epoch, r.trainLoss, r.validLoss]);
}
