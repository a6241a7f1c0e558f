/**
 * Dropout masks drawn from the project's seeded generator, on the CPU and in
 * the boundary's NCHW order, so a mask depends only on (seed, layer, shape):
 * the same step draws the same mask on every backend and every engine.
 */
import { Rng } from '../../random/rng.js';

/**
 * Inverted dropout: each of `count` units (sample-major, then C, H, W) is
 * dropped (0) with probability `rate`, otherwise scaled by 1 / (1 - rate).
 *
 * @example
 * const mask = dropoutMask(stepSeed, 'dropout1', 0.5, batchSize * 500);
 */
export function dropoutMask(seed: number, layer: string, rate: number, count: number): Float32Array {
  const mask = new Float32Array(count);
  const keep = 1 / (1 - rate);
  const rng = new Rng(seed, 'dropout', layer);
  for (let i = 0; i < count; i++) mask[i] = rng.next() < rate ? 0 : keep;
  return mask;
}
