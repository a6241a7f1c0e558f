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
import type { NamedTensor } from '../nn/tensor.js';

// Defined in nn/ (which depends on no engine); re-exported for the engine's users.
export type { NamedTensor } from '../nn/tensor.js';

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

  /** Forward pass in inference mode (no dropout, batch norm on its running statistics); returns `n * outputSize` values. */
  predict(x: Float32Array): Promise<Float32Array>;

  /**
   * One forward + backward + update on a batch in training mode (dropout on,
   * batch norm on the batch's statistics, its running statistics updated);
   * resolves to the batch's masked MSE before the update.
   */
  trainStep(x: Float32Array, y: Float32Array, options: TrainStepOptions): Promise<number>;

  /** Masked MSE of a batch in inference mode (as `predict`), without updating anything. */
  evaluateLoss(x: Float32Array, y: Float32Array): Promise<number>;

  /**
   * Gradients of the masked MSE in training mode but without dropout (batch
   * norm on the batch's statistics) with respect to every trainable
   * parameter at the current weights, without updating anything (running
   * statistics included). Used to check engines against each other and
   * against finite differences.
   */
  gradients(x: Float32Array, y: Float32Array): Promise<NamedTensor[]>;

  /**
   * Copies of all parameters and layer state (batch norm's running
   * statistics), in the order of `weightInfos` in `nn/spec.ts`
   * (`layer.W`, `layer.b`, ..., `bn1.gamma`, `bn1.beta`, `bn1.mean`, `bn1.var`).
   */
  getWeights(): Promise<NamedTensor[]>;
  /** Replaces parameters and layer state by name; every one must be given, with matching shapes. */
  setWeights(weights: NamedTensor[]): Promise<void>;

  /** Copies of the optimizer state: one velocity per trainable parameter, named like the parameter. */
  getOptimizerState(): Promise<NamedTensor[]>;
  setOptimizerState(state: NamedTensor[]): Promise<void>;

  /** Frees engine memory; the network may not be used afterwards. */
  dispose(): void;
}

/** Options when compiling a network. */
export interface CompileOptions {
  /** Threads to use where the engine supports it (default: all cores). */
  threads?: number;
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
