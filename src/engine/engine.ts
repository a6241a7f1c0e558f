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
 * - The loss is the masked mean squared error: targets that are NaN are
 *   missing and contribute neither to the loss nor to the gradients; the
 *   loss is sum((pred - y)^2 over present targets) / (number of present
 *   targets), and 0 when none is present.
 * - The update is Lasagne's Nesterov momentum, for every parameter p with
 *   gradient g and velocity v (v starts at 0):
 *     v = momentum * v - learningRate * g
 *     p = p + momentum * v - learningRate * g
 */
import type { NetworkSpec, ResolvedSpec } from '../nn/spec.js';

/** A named float32 tensor, e.g. `{ name: 'conv1.W', shape: [32, 1, 3, 3], data }`. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Hyper-parameters of one training step. */
export interface StepHyperparams {
  learningRate: number;
  momentum: number;
}

/** Options of one training step. */
export interface TrainStepOptions extends StepHyperparams {
  /**
   * Seed of this step's dropout masks. The caller derives it from the run's
   * seed and the step number, so a resumed run draws the same masks.
   */
  dropoutSeed: number;
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

  /** Forward pass without dropout; returns `n * outputSize` values. */
  predict(x: Float32Array): Promise<Float32Array>;

  /** One forward + backward + update on a batch; resolves to the batch's masked MSE before the update. */
  trainStep(x: Float32Array, y: Float32Array, options: TrainStepOptions): Promise<number>;

  /** Masked MSE of a batch without dropout and without updating anything. */
  evaluateLoss(x: Float32Array, y: Float32Array): Promise<number>;

  /**
   * Gradients of the masked MSE (no dropout) with respect to every parameter
   * at the current weights, without updating. Used to check engines against
   * each other and against finite differences.
   */
  gradients(x: Float32Array, y: Float32Array): Promise<NamedTensor[]>;

  /** Copies of all parameters, in spec order (`layer.W`, `layer.b`, ...). */
  getWeights(): Promise<NamedTensor[]>;
  /** Replaces parameters by name; every parameter of the network must be given, with matching shapes. */
  setWeights(weights: NamedTensor[]): Promise<void>;

  /** Copies of the optimizer state: one velocity per parameter, named like the parameter. */
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
