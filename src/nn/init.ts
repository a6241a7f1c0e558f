/**
 * Weight initialisation, done here rather than in each engine so that every
 * engine starts from the same weights for the same seed. Each layer kind says
 * how its tensors start (`ParamShape.init`).
 */
import { Rng } from '../random/rng.js';
import { weightInfos, type ResolvedSpec } from './spec.js';
import { sizeOf, type NamedTensor } from './tensor.js';

/**
 * Lasagne's defaults: Glorot-uniform weights (fan-in and fan-out include the
 * receptive field for convolutions; relu layers use gain sqrt(2)), zero
 * biases; batch norm starts as the identity (gamma 1, beta 0, mean 0, var 1).
 * Weights and state come in the order of {@link weightInfos}.
 *
 * @example
 * const weights = initWeights(resolveSpec(spec), 42);
 * await network.setWeights(weights);
 */
export function initWeights(spec: ResolvedSpec, seed: number): NamedTensor[] {
  return weightInfos(spec).map((info) => {
    const data = new Float32Array(sizeOf(info.shape));
    const init = info.init;
    if (init.kind === 'ones') data.fill(1);
    if (init.kind === 'glorot') {
      const rng = new Rng(seed, 'init', info.layer);
      let fanIn: number;
      let fanOut: number;
      if (info.shape.length === 4) {
        const receptive = info.shape[2] * info.shape[3];
        fanIn = info.shape[1] * receptive;
        fanOut = info.shape[0] * receptive;
      } else {
        fanIn = info.shape[0];
        fanOut = info.shape[1];
      }
      const limit = init.gain * Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-limit, limit);
    }
    return { name: info.key, shape: [...info.shape], data };
  });
}
