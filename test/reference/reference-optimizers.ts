/**
 * The update rules of `engine.ts` in float64, written from its doc comment:
 * Lasagne's Nesterov momentum and Adam, with L2 weight decay on `W`
 * parameters. State is kept under the names `optimizerStateShapes` gives,
 * so it compares directly with an engine's `getOptimizerState()`.
 */
import type { NamedTensor } from '../../src/engine/engine.js';
import {
  ADAM_STEP_NAME,
  adamMomentNames,
  checkHyperparams,
  isDecayed,
  type OptimizerName,
  type StepHyperparams,
} from '../../src/nn/optimizer.js';
import type { Params } from './reference-net.js';

/** Parameters and optimizer state in float64. */
export interface ReferenceOptimizer {
  optimizer: OptimizerName;
  params: Params;
  /** By state tensor name (velocities, `P/m`, `P/v`); `step` is kept in `t`. */
  state: Params;
  t: number;
}

export function referenceOptimizer(
  optimizer: OptimizerName,
  weights: NamedTensor[],
  state?: NamedTensor[],
): ReferenceOptimizer {
  const params: Params = new Map(weights.map((w) => [w.name, Float64Array.from(w.data)]));
  const s: Params = new Map();
  let t = 0;
  for (const w of weights) {
    if (optimizer === 'nesterov') s.set(w.name, new Float64Array(w.data.length));
    else {
      const { m, v } = adamMomentNames(w.name);
      s.set(m, new Float64Array(w.data.length));
      s.set(v, new Float64Array(w.data.length));
    }
  }
  for (const tensor of state ?? []) {
    if (tensor.name === ADAM_STEP_NAME) t = tensor.data[0];
    else s.set(tensor.name, Float64Array.from(tensor.data));
  }
  return { optimizer, params, state: s, t };
}

/** One update of every parameter with the given gradients (of the loss, without decay). */
export function referenceUpdate(ref: ReferenceOptimizer, grads: Params, hyper: StepHyperparams): void {
  const h = checkHyperparams(ref.optimizer, hyper);
  ref.t += 1;
  for (const [name, p] of ref.params) {
    const raw = grads.get(name)!;
    const g = Float64Array.from(raw, (gi, i) => gi + (isDecayed(name) ? h.weightDecay * p[i] : 0));
    if (h.optimizer === 'nesterov') {
      const v = ref.state.get(name)!;
      for (let i = 0; i < p.length; i++) {
        v[i] = h.momentum * v[i] - h.learningRate * g[i];
        p[i] = p[i] + h.momentum * v[i] - h.learningRate * g[i];
      }
    } else {
      const names = adamMomentNames(name);
      const m = ref.state.get(names.m)!;
      const v = ref.state.get(names.v)!;
      const a = (h.learningRate * Math.sqrt(1 - h.beta2 ** ref.t)) / (1 - h.beta1 ** ref.t);
      for (let i = 0; i < p.length; i++) {
        m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
        v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
        p[i] = p[i] - (a * m[i]) / (Math.sqrt(v[i]) + h.epsilon);
      }
    }
  }
}
