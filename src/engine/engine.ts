/**
 * The engine boundary. Everything above this file (NeuralNet, callbacks, the
 * CLI) talks to tensor math only through these interfaces, and never knows
 * whether it runs native code, tfjs or a GPU.
 *
 * Rules every engine keeps:
 * - Data crosses the boundary as Float32Array only: batches go in, losses and
 *   predictions come out. No pointers into engine memory leak out.
 * - One call per batch: an engine compiles a spec once and may keep its
 *   buffers, primitives and layouts alive between calls of the same shapes.
 * - Weights use the layouts documented in `nn/spec.ts`, so a model trained on
 *   one engine loads into any other.
 * - The loss masks missing targets: targets that are NaN contribute neither
 *   to the loss nor to the gradients. With d = prediction - target, the loss
 *   is sum(f(d) over present targets) / (number of present targets), 0 when
 *   none is present, where f is one of (`nn/loss.ts`; default `mse`):
 *     mse        f(d) = d^2
 *     l1         f(d) = |d|                       (f'(0) = 0)
 *     smooth-l1  f(d) = 0.5 d^2 / beta            if |d| < beta
 *                       |d| - 0.5 beta            otherwise
 *     wing       f(d) = w ln(1 + |d| / epsilon)   if |d| < w      (Feng et al., CVPR 2018)
 *                       |d| - C                   otherwise, C = w - w ln(1 + w / epsilon)
 * - The update is the network's optimizer (`CompileOptions.optimizer`), for
 *   every parameter p with gradient g of the loss. L2 weight decay lambda
 *   (`weightDecay`, default 0) first adds lambda * p to g for every `W`
 *   parameter (not biases), i.e. minimises loss + lambda/2 * sum(W^2); the
 *   loss returned never includes that term.
 *   Nesterov momentum (Lasagne's `nesterov_momentum`; the default), velocity v starting at 0:
 *     v = momentum * v - learningRate * g
 *     p = p + momentum * v - learningRate * g
 *   Adam (Lasagne's `adam`), m and v starting at 0, t the 1-based number of this update:
 *     a_t = learningRate * sqrt(1 - beta2^t) / (1 - beta1^t)   (computed in float64)
 *     m = beta1 * m + (1 - beta1) * g
 *     v = beta2 * v + (1 - beta2) * g^2
 *     p = p - a_t * m / (sqrt(v) + epsilon)
 *   Every hyper-parameter is given per step, so callbacks may change them
 *   between steps (nolearn's shared variables); the state (velocities, or m,
 *   v and t) lives in the network and round-trips through
 *   get/setOptimizerState exactly, so a resumed run is bit-identical.
 */
import type { LossSpec } from '../nn/loss.js';
import type { OptimizerName, StepHyperparams } from '../nn/optimizer.js';
import type { NetworkSpec, ResolvedSpec } from '../nn/spec.js';
import type { NamedTensor } from '../nn/tensor.js';

// Defined in nn/ (which depends on no engine); re-exported for the engine's users.
export type { NamedTensor } from '../nn/tensor.js';
export type { LossSpec } from '../nn/loss.js';
export type { OptimizerName, StepHyperparams } from '../nn/optimizer.js';

/** Options of one training step. */
export interface TrainStepOptions extends StepHyperparams {
  /**
   * Seed of this step's dropout masks. The caller derives it from the run's
   * seed and the step number, so a resumed run draws the same masks.
   */
  dropoutSeed: number;
  /** The loss to minimise (default: masked MSE). */
  loss?: LossSpec;
}

/**
 * A compiled network. All batch arguments are row-major float32: `x` holds
 * `n * spec.inputSize` values, `y` holds `n * spec.outputSize` values (NaN =
 * missing target), where `n` is the batch size of that call.
 */
export interface Network {
  readonly spec: ResolvedSpec;
  /** Name of the engine that compiled it, e.g. 'native' or 'tfjs-wasm'. */
  readonly engineName: string;
  /** The update rule `trainStep` applies (chosen at compile time). */
  readonly optimizer: OptimizerName;

  /** Forward pass in inference mode (no dropout, batch norm on its running statistics); returns `n * outputSize` values. */
  predict(x: Float32Array): Promise<Float32Array>;

  /**
   * One forward + backward + update on a batch in training mode (dropout on,
   * batch norm on the batch's statistics, its running statistics updated);
   * resolves to the batch's loss before the update.
   */
  trainStep(x: Float32Array, y: Float32Array, options: TrainStepOptions): Promise<number>;

  /** The loss (default masked MSE) of a batch in inference mode (as `predict`), without updating anything. */
  evaluateLoss(x: Float32Array, y: Float32Array, loss?: LossSpec): Promise<number>;

  /**
   * Gradients of the loss (default masked MSE; no weight decay) in training
   * mode but without dropout (batch norm on the batch's statistics) with
   * respect to every trainable parameter at the current weights, without
   * updating anything (running statistics included). Used to check engines
   * against each other and against finite differences.
   */
  gradients(x: Float32Array, y: Float32Array, loss?: LossSpec): Promise<NamedTensor[]>;

  /**
   * Copies of all parameters and layer state (batch norm's running
   * statistics), in the order of `weightInfos` in `nn/spec.ts`
   * (`layer.W`, `layer.b`, ..., `bn1.gamma`, `bn1.beta`, `bn1.mean`, `bn1.var`).
   */
  getWeights(): Promise<NamedTensor[]>;
  /** Replaces parameters and layer state by name; every one must be given, with matching shapes. */
  setWeights(weights: NamedTensor[]): Promise<void>;

  /**
   * Copies of the optimizer state, as `optimizerStateShapes` (nn/optimizer.ts)
   * lists it: Nesterov one velocity per parameter, named like the parameter;
   * Adam `P/m` and `P/v` per parameter P, then `step` ([1], t).
   */
  getOptimizerState(): Promise<NamedTensor[]>;
  setOptimizerState(state: NamedTensor[]): Promise<void>;

  /** Frees engine memory; the network may not be used afterwards. */
  dispose(): void;
}

/**
 * Draws one dropout layer's mask for one training step: `count` values, the
 * batch's units in sample, C, H, W order, each the factor its unit is
 * multiplied by (inverted dropout: 0 when dropped, 1 / (1 - rate) when kept).
 * Forward and backward both multiply by it.
 */
export type DropoutMaskFn = (seed: number, layer: string, rate: number, count: number) => Float32Array;

/** Options when compiling a network. */
export interface CompileOptions {
  /** Threads to use where the engine supports it (default: all cores). */
  threads?: number;
  /** The update rule of `trainStep` (default 'nesterov'). */
  optimizer?: OptimizerName;
  /**
   * Where trainStep's dropout masks come from, called once per dropout layer
   * and step with the step's `dropoutSeed`. By default each engine draws its
   * own (seeded, so a resumed run repeats them, but not the same on two
   * engines); give the same function to two engines, and to the float64
   * reference in test/reference, to compare their training steps with dropout.
   *
   * @example
   * import { dropoutMask } from './tfjs/dropout-mask.js';
   * const a = await tfjsEngine.compile(spec, { dropoutMask });
   * const b = await nativeEngine.compile(spec, { dropoutMask }); // same masks, same step
   */
  dropoutMask?: DropoutMaskFn;
}

/**
 * An engine compiles specs into networks. Compiling does not initialise
 * weights: the caller sets them (see `nn/init.ts`), so every engine starts
 * from identical weights for the same seed.
 */
export interface Engine {
  /** Short name: 'native', 'tfjs-wasm', 'tfjs-cpu', ... */
  readonly name: string;
  compile(spec: NetworkSpec, options?: CompileOptions): Promise<Network>;
}

/** What callers may ask for; 'auto' takes the fastest engine available here. */
export type EngineChoice = 'auto' | 'native' | 'tfjs';
