/**
 * How a fresh net's output bias starts. Lasagne starts every bias at zero,
 * so a keypoint net's first prediction is the centre of the frame for every
 * point; 'meanTargets' starts it at the mean of the training targets (the mean
 * shape), which with a zero-initialised output layer (`dense` `init: 'zeros'`)
 * is exactly what the untrained net predicts.
 */
import { ConfigError } from '../errors.js';
import type { ResolvedSpec } from '../nn/spec.js';
import { paramKey } from '../nn/spec.js';
import type { NamedTensor } from '../nn/tensor.js';

export type OutputBias = 'zeros' | 'meanTargets';
export const OUTPUT_BIAS_RULES: readonly OutputBias[] = ['zeros', 'meanTargets'];

/** Checks an `outputBias` value, naming where it came from. */
export function checkOutputBias(value: unknown, where: string): OutputBias {
  if (!(OUTPUT_BIAS_RULES as readonly unknown[]).includes(value)) {
    throw new ConfigError(`${where} must be 'zeros' or 'meanTargets', got ${JSON.stringify(value)}`);
  }
  return value as OutputBias;
}

/**
 * The mean of each target column over `rows`, skipping missing (NaN) values;
 * 0 for a column with no value.
 *
 * @example
 * meanTargets(new Float32Array([0.1, NaN, 0.3, 0.5]), [0, 1], 2); // [0.2, 0.5]
 */
export function meanTargets(y: Float32Array, rows: ArrayLike<number>, outputs: number): Float32Array {
  const sums = new Float64Array(outputs);
  const counts = new Float64Array(outputs);
  for (let i = 0; i < rows.length; i++) {
    const offset = rows[i] * outputs;
    for (let k = 0; k < outputs; k++) {
      const v = y[offset + k];
      if (Number.isNaN(v)) continue;
      sums[k] += v;
      counts[k]++;
    }
  }
  return Float32Array.from(sums, (sum, k) => (counts[k] > 0 ? sum / counts[k] : 0));
}

/**
 * `weights` with the last layer's bias replaced by `bias` (a copy; the
 * others are shared).
 *
 * @throws ConfigError when the last layer has no bias of that size.
 */
export function withOutputBias(
  spec: ResolvedSpec,
  weights: NamedTensor[],
  bias: Float32Array,
): NamedTensor[] {
  const last = spec.layers[spec.layers.length - 1];
  const key = paramKey(last.name, 'b');
  const index = weights.findIndex((w) => w.name === key);
  if (index < 0 || weights[index].data.length !== bias.length) {
    throw new ConfigError(
      `outputBias 'meanTargets' needs a last layer with a bias of ${bias.length} values; '${last.name}' has none`,
    );
  }
  return weights.map((w, i) => (i === index ? { ...w, data: Float32Array.from(bias) } : w));
}
