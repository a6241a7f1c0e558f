/**
 * Weight initialisation, done here rather than in each engine so that every
 * engine starts from the same weights for the same seed.
 */
import type { NamedTensor } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { paramKey, sizeOf, type ResolvedSpec } from './spec.js';

/**
 * Lasagne's defaults: Glorot-uniform weights (fan-in and fan-out include the
 * receptive field for convolutions; relu layers use gain sqrt(2)) and zero biases.
 *
 * @example
 * const weights = initWeights(resolveSpec(spec), 42);
 * await network.setWeights(weights);
 */
export function initWeights(spec: ResolvedSpec, seed: number): NamedTensor[] {
  const weights: NamedTensor[] = [];
  for (const layer of spec.layers) {
    for (const param of layer.params) {
      const data = new Float32Array(sizeOf(param.shape));
      if (param.name === 'W') {
        const rng = new Rng(seed, 'init', layer.name);
        let fanIn: number;
        let fanOut: number;
        if (param.shape.length === 4) {
          const receptive = param.shape[2] * param.shape[3];
          fanIn = param.shape[1] * receptive;
          fanOut = param.shape[0] * receptive;
        } else {
          fanIn = param.shape[0];
          fanOut = param.shape[1];
        }
        const gain = 'activation' in layer && layer.activation === 'relu' ? Math.SQRT2 : 1;
        const limit = gain * Math.sqrt(6 / (fanIn + fanOut));
        for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-limit, limit);
      }
      weights.push({ name: paramKey(layer.name, param.name), shape: [...param.shape], data });
    }
  }
  return weights;
}
