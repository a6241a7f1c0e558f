/**
 * The native CPU engine: oneDNN 2.x primitives driven from C++ (native/),
 * reached through an N-API addon built by node-gyp (`npm run build`). Every
 * heavy call runs off the JS thread and resolves a Promise; calls on one
 * network are queued so two never run at once.
 *
 * Inside the addon, weights live in the layouts oneDNN prefers; they cross
 * this boundary only in the canonical layouts of `nn/spec.ts`, so a model
 * trained here loads into the tfjs engine (and a browser) unchanged.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError, EngineUnavailableError, ShapeError } from '../../errors.js';
import {
  resolveSpec,
  weightInfos,
  type NetworkSpec,
  type ResolvedLayer,
  type ResolvedSpec,
} from '../../nn/spec.js';
import { lossCode, resolveLoss, type LossSpec } from '../../nn/loss.js';
import {
  ADAM_STEP_NAME,
  adamMomentNames,
  adamStepSize,
  checkHyperparams,
  checkOptimizerName,
  type OptimizerName,
} from '../../nn/optimizer.js';

import type {
  CompileOptions,
  DropoutMaskFn,
  Engine,
  NamedTensor,
  Network,
  TrainStepOptions,
} from '../engine.js';

/**
 * The addon reads the resolved layers themselves (see parse_layer in
 * native/addon.cc): every kind's fields by their spec names, so nothing here
 * knows about layer kinds.
 */
type AddonLayer = ResolvedLayer;

/** One update's hyper-parameters as the addon reads them (see TrainStep in native/addon.cc). */
interface AddonStep {
  learningRate: number;
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Adam's a_t. */
  stepSize: number;
  seed: number;
}

/** A loss as the addon reads it: `lossCode` of nn/loss.ts. */
interface AddonLoss {
  loss: number;
  lossA: number;
  lossB: number;
}

/** Which buffer of every parameter getParams/setParams address. */
const SLOT = { value: 0, velocity: 1, second: 2 } as const;

interface AddonNetwork {
  predict(x: Float32Array): Promise<Float32Array>;
  trainStep(
    x: Float32Array,
    y: Float32Array,
    step: AddonStep,
    loss: AddonLoss,
    masks?: Float32Array[],
  ): Promise<number>;
  evaluateLoss(x: Float32Array, y: Float32Array, loss: AddonLoss): Promise<number>;
  gradients(
    x: Float32Array,
    y: Float32Array,
    loss: AddonLoss,
  ): Promise<{ loss: number; grads: Float32Array[] }>;
  getParams(slot: number): Promise<Float32Array[]>;
  setParams(values: Float32Array[], slot: number): Promise<void>;
  /** Layer state (batch norm's running mean and var), in layer order. */
  getState(): Promise<Float32Array[]>;
  setState(values: Float32Array[]): Promise<void>;

  probeThreads(): Promise<number>;
  describe(): Promise<string>;
  dispose(): void;
}

interface Addon {
  NativeNetwork: new (layers: AddonLayer[], threads: number, optimizer: OptimizerName) => AddonNetwork;
  onednnVersion: string;
  defaultThreads: number;
}

/** Where node-gyp puts the addon, relative to the package root. */
export const NATIVE_ADDON_PATH = path.join('build', 'Release', 'facepoints_native.node');

const INSTALL_HINT =
  'install the system package libdnnl-dev (apt-get install libdnnl-dev), then run `npm run build`';

let cached: Addon | undefined;

function packageRoot(): string {
  // src/engine/native/ and dist/engine/native/ both sit three levels below the root.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

function loadAddon(): Addon {
  if (cached) return cached;
  const file = process.env.FACEPOINTS_NATIVE_ADDON ?? path.join(packageRoot(), NATIVE_ADDON_PATH);
  if (!existsSync(file)) {
    throw new EngineUnavailableError(`native engine is not built (${file} is missing): ${INSTALL_HINT}`);
  }
  try {
    cached = createRequire(import.meta.url)(file) as Addon;
  } catch (error) {
    throw new EngineUnavailableError(
      `native engine ${file} failed to load (${(error as Error).message}): ${INSTALL_HINT}`,
    );
  }
  return cached;
}

/** True when the addon is built and loads here; never throws. */
export function nativeEngineAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/** The native engine, with what it runs on. */
export interface NativeEngine extends Engine {
  readonly name: 'native';
  /** Version of the oneDNN library the addon is linked against, e.g. '2.6.3'. */
  readonly onednnVersion: string;
  /** Threads a network uses when neither the engine nor compile() names a count. */
  readonly defaultThreads: number;
  compile(spec: NetworkSpec, options?: CompileOptions): Promise<NativeNetwork>;
}

function checkThreads(threads: number | undefined, where: string): number | undefined {
  if (threads === undefined) return undefined;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError(`${where}: threads must be a positive integer, got ${threads}`);
  }
  return threads;
}

/**
 * Loads the native engine.
 *
 * @param options.threads default thread count of the networks it compiles (default: all cores).
 * @throws EngineUnavailableError naming libdnnl-dev and `npm run build` when the addon is not built.
 * @example
 * const engine = await loadNativeEngine({ threads: 2 });
 * const network = await engine.compile(presetSpec('net2', 30));
 * await network.setWeights(initWeights(network.spec, 42));
 * const loss = await network.trainStep(xBatch, yBatch, { learningRate: 0.01, momentum: 0.9, dropoutSeed: 1 });
 * // Adam and another loss: compile(spec, { optimizer: 'adam' }), then
 * // trainStep(x, y, { learningRate: 0.001, dropoutSeed: 1, loss: { kind: 'wing' } })
 */
export async function loadNativeEngine(options: { threads?: number } = {}): Promise<NativeEngine> {
  const addon = loadAddon();
  const engineThreads = checkThreads(options.threads, 'loadNativeEngine');
  return {
    name: 'native',
    onednnVersion: addon.onednnVersion,
    defaultThreads: engineThreads ?? addon.defaultThreads,
    async compile(spec: NetworkSpec, compileOptions: CompileOptions = {}): Promise<NativeNetwork> {
      const resolved = resolveSpec(spec);
      const threads =
        checkThreads(compileOptions.threads, 'compile') ?? engineThreads ?? addon.defaultThreads;
      const optimizer = checkOptimizerName(compileOptions.optimizer ?? 'nesterov', 'compile: optimizer');
      const handle = new addon.NativeNetwork(toAddonLayers(resolved), threads, optimizer);
      return new NativeNetwork(resolved, handle, threads, optimizer, compileOptions.dropoutMask);
    },
  };
}

function toAddonLayers(spec: ResolvedSpec): AddonLayer[] {
  return spec.layers;
}

const ADDON_STEP_ZERO: AddonStep = {
  learningRate: 0,
  momentum: 0,
  beta1: 0,
  beta2: 0,
  epsilon: 0,
  weightDecay: 0,
  stepSize: 0,
  seed: 0,
};

function addonLoss(loss: LossSpec | undefined): AddonLoss {
  const { code, a, b } = lossCode(resolveLoss(loss));
  return { loss: code, lossA: a, lossB: b };
}

interface ParamInfo {
  name: string;
  layer: string;
  shape: number[];
  size: number;
}

/**
 * A network compiled by the native engine. Besides the {@link Network}
 * methods it reports what it runs on (`threads`, `threadsInUse()`,
 * `describe()`), for tests and benchmarks.
 */
export class NativeNetwork implements Network {
  readonly engineName = 'native';
  /** Trainable parameters, in the addon's order. */
  private readonly params: ParamInfo[];
  /** Layer state, in the addon's order. */
  private readonly states: ParamInfo[];
  /** Parameters and state in the order of `weightInfos`, each with where it sits in the addon's lists. */
  private readonly weightOrder: { info: ParamInfo; trainable: boolean; index: number }[];
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;
  /**
   * Updates issued so far (Adam's t). Counted when a call is made, not when it
   * runs: calls run in the order they are made, so a call sees the count of
   * every call made before it.
   */
  private step = 0;

  constructor(
    readonly spec: ResolvedSpec,
    private readonly handle: AddonNetwork,
    /** Threads (OpenMP team size) this network computes with. */
    readonly threads: number,
    readonly optimizer: OptimizerName = 'nesterov',
    /** The caller's dropout masks (CompileOptions.dropoutMask); default: the addon draws its own. */
    private readonly dropoutMask?: DropoutMaskFn,
  ) {
    this.params = [];
    this.states = [];
    this.weightOrder = weightInfos(spec).map((w) => {
      const info = {
        name: w.key,
        layer: w.layer,
        shape: [...w.shape],
        size: w.shape.reduce((a, b) => a * b, 1),
      };
      const list = w.trainable ? this.params : this.states;
      list.push(info);
      return { info, trainable: w.trainable, index: list.length - 1 };
    });
  }

  // One call at a time per network: the addon refuses overlapping calls, so queue them. The addon copies
  // its input arrays when called; a call that has to wait copies them now instead, so callers may refill
  // their arrays as soon as they hold the promise.
  private run<T>(task: (arrays: Float32Array[]) => Promise<T>, arrays: Float32Array[] = []): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('this native network was disposed'));
    let next: Promise<T>;
    if (this.pending === 0) {
      try {
        next = task(arrays);
      } catch (error) {
        next = Promise.reject(error);
      }
    } else {
      const copies = arrays.map((a) => a.slice());
      next = this.queue.then(
        () => task(copies),
        () => task(copies),
      );
    }
    this.pending++;
    this.queue = next.finally(() => this.pending--).catch(() => undefined);
    return next;
  }

  private batchSize(x: Float32Array, y?: Float32Array): number {
    const { inputSize, outputSize, layers } = this.spec;
    if (!(x instanceof Float32Array) || x.length === 0 || x.length % inputSize !== 0) {
      throw new ShapeError(
        layers[0].name,
        `x must be a Float32Array of n * ${inputSize} values, got ${x instanceof Float32Array ? x.length : typeof x}`,
      );
    }
    const n = x.length / inputSize;
    if (y !== undefined && (!(y instanceof Float32Array) || y.length !== n * outputSize)) {
      throw new ShapeError(
        layers[layers.length - 1].name,
        `y must be a Float32Array of ${n} * ${outputSize} values, got ${y instanceof Float32Array ? y.length : typeof y}`,
      );
    }
    return n;
  }

  async predict(x: Float32Array): Promise<Float32Array> {
    this.batchSize(x);
    return this.run(([xs]) => this.handle.predict(xs), [x]);
  }

  async trainStep(x: Float32Array, y: Float32Array, options: TrainStepOptions): Promise<number> {
    this.batchSize(x, y);
    const h = checkHyperparams(this.optimizer, options);
    const { dropoutSeed } = options;
    if (typeof dropoutSeed !== 'number' || !Number.isFinite(dropoutSeed)) {
      throw new ConfigError(`trainStep: dropoutSeed must be a finite number, got ${dropoutSeed}`);
    }
    const loss = addonLoss(options.loss);
    const t = ++this.step;
    const step: AddonStep =
      h.optimizer === 'nesterov'
        ? {
            ...ADDON_STEP_ZERO,
            learningRate: h.learningRate,
            momentum: h.momentum,
            weightDecay: h.weightDecay,
          }
        : {
            ...ADDON_STEP_ZERO,
            learningRate: h.learningRate,
            beta1: h.beta1,
            beta2: h.beta2,
            epsilon: h.epsilon,
            weightDecay: h.weightDecay,
            stepSize: adamStepSize(h.learningRate, h.beta1, h.beta2, t),
          };
    step.seed = Math.trunc(dropoutSeed);
    const masks = this.dropoutMask ? this.masksFor(x.length / this.spec.inputSize, dropoutSeed) : undefined;
    return this.run(
      ([xs, ys, ...given]) => this.handle.trainStep(xs, ys, step, loss, masks ? given : undefined),
      [x, y, ...(masks ?? [])],
    );
  }

  /** One mask per dropout layer from the caller's function, checked. */
  private masksFor(n: number, seed: number): Float32Array[] {
    return this.spec.layers.flatMap((layer) => {
      if (layer.kind !== 'dropout') return [];
      const count = n * layer.outputShape.reduce((a, b) => a * b, 1);
      const mask = this.dropoutMask!(seed, layer.name, layer.rate, count);
      if (!(mask instanceof Float32Array) || mask.length !== count) {
        throw new ShapeError(layer.name, `dropoutMask gave ${mask?.length} values, expected ${count}`);
      }
      return [mask];
    });
  }

  async evaluateLoss(x: Float32Array, y: Float32Array, loss?: LossSpec): Promise<number> {
    this.batchSize(x, y);
    const code = addonLoss(loss);
    return this.run(([xs, ys]) => this.handle.evaluateLoss(xs, ys, code), [x, y]);
  }

  async gradients(x: Float32Array, y: Float32Array, loss?: LossSpec): Promise<NamedTensor[]> {
    this.batchSize(x, y);
    const code = addonLoss(loss);
    const { grads } = await this.run(([xs, ys]) => this.handle.gradients(xs, ys, code), [x, y]);
    return this.named(grads);
  }

  async getWeights(): Promise<NamedTensor[]> {
    const [params, states] = await this.run(async () => [
      await this.handle.getParams(SLOT.value),
      this.states.length > 0 ? await this.handle.getState() : [],
    ]);
    return this.weightOrder.map(({ info, trainable, index }) => ({
      name: info.name,
      shape: [...info.shape],
      data: (trainable ? params : states)[index],
    }));
  }

  async setWeights(weights: NamedTensor[]): Promise<void> {
    const known = new Set([...this.params, ...this.states].map((p) => p.name));
    for (const tensor of weights) {
      if (!known.has(tensor.name)) {
        throw new ShapeError(
          tensor.name.split('.')[0],
          `setWeights: this network has no parameter '${tensor.name}'`,
        );
      }
    }
    const names = (list: ParamInfo[]) => new Set(list.map((p) => p.name));
    const params = this.ordered(
      weights.filter((t) => names(this.params).has(t.name)),
      'setWeights',
    );
    const states = this.ordered(
      weights.filter((t) => names(this.states).has(t.name)),
      'setWeights',
      this.states,
    );
    return this.run(
      async (copies) => {
        await this.handle.setParams(copies.slice(0, params.length), SLOT.value);
        if (states.length > 0) await this.handle.setState(copies.slice(params.length));
      },
      [...params, ...states],
    );
  }

  async getOptimizerState(): Promise<NamedTensor[]> {
    const step = this.step;
    if (this.optimizer === 'nesterov')
      return this.named(await this.run(() => this.handle.getParams(SLOT.velocity)));
    // One queued task, so no call made meanwhile runs between reading m and v.
    const [mValues, vValues] = await this.run(async () => [
      await this.handle.getParams(SLOT.velocity),
      await this.handle.getParams(SLOT.second),
    ]);
    const m = this.named(mValues);
    const v = this.named(vValues);
    return [
      ...m.flatMap((mi, i) => {
        const names = adamMomentNames(mi.name);
        return [
          { ...mi, name: names.m },
          { ...v[i], name: names.v },
        ];
      }),
      { name: ADAM_STEP_NAME, shape: [1], data: Float32Array.of(step) },
    ];
  }

  async setOptimizerState(state: NamedTensor[]): Promise<void> {
    if (this.optimizer === 'nesterov') {
      const values = this.ordered(state, 'setOptimizerState');
      return this.run((copies) => this.handle.setParams(copies, SLOT.velocity), values);
    }
    const byName = new Map(state.map((t) => [t.name, t]));
    const known = new Set([
      ADAM_STEP_NAME,
      ...this.params.flatMap((p) => Object.values(adamMomentNames(p.name))),
    ]);
    for (const t of state) {
      if (!known.has(t.name)) {
        throw new ShapeError(t.name.split('.')[0], `setOptimizerState: Adam has no state tensor '${t.name}'`);
      }
    }
    const moment = (which: 'm' | 'v') =>
      this.params.map((p) => {
        const name = adamMomentNames(p.name)[which];
        const tensor = byName.get(name);
        if (!tensor) throw new ShapeError(p.layer, `setOptimizerState: '${name}' is missing`);
        return { ...tensor, name: p.name };
      });
    const m = this.ordered(moment('m'), 'setOptimizerState');
    const v = this.ordered(moment('v'), 'setOptimizerState');
    const stepTensor = byName.get(ADAM_STEP_NAME);
    const step = stepTensor?.data[0];
    if (!stepTensor || stepTensor.data.length !== 1 || !Number.isInteger(step) || step! < 0) {
      throw new ShapeError(
        ADAM_STEP_NAME,
        `setOptimizerState: '${ADAM_STEP_NAME}' must be one whole number >= 0, got ${stepTensor ? `[${stepTensor.data}]` : 'nothing'}`,
      );
    }
    this.step = step!;
    const count = m.length;
    return this.run(
      async (copies) => {
        await this.handle.setParams(copies.slice(0, count), SLOT.velocity);
        await this.handle.setParams(copies.slice(count), SLOT.second);
      },
      [...m, ...v],
    );
  }

  /** Size of the OpenMP thread team this network's calls actually run with. */
  threadsInUse(): Promise<number> {
    return this.run(() => this.handle.probeThreads());
  }

  /** The oneDNN implementation chosen for every primitive of every batch size used so far. */
  describe(): Promise<string> {
    return this.run(() => this.handle.describe());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Frees native memory once any queued call has finished.
    void this.queue.then(() => this.handle.dispose());
  }

  private named(values: Float32Array[]): NamedTensor[] {
    return this.params.map((param, i) => ({ name: param.name, shape: [...param.shape], data: values[i] }));
  }

  private ordered(tensors: NamedTensor[], what: string, list: ParamInfo[] = this.params): Float32Array[] {
    const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
    const known = new Set(list.map((param) => param.name));
    for (const tensor of tensors) {
      if (!known.has(tensor.name)) {
        throw new ShapeError(
          tensor.name.split('.')[0],
          `${what}: this network has no parameter '${tensor.name}'`,
        );
      }
    }
    return list.map((param) => {
      const tensor = byName.get(param.name);
      if (!tensor) throw new ShapeError(param.layer, `${what}: parameter '${param.name}' is missing`);
      const sameShape =
        tensor.shape.length === param.shape.length && tensor.shape.every((d, i) => d === param.shape[i]);
      if (!sameShape || !(tensor.data instanceof Float32Array) || tensor.data.length !== param.size) {
        throw new ShapeError(
          param.layer,
          `${what}: '${param.name}' must have shape [${param.shape}] (${param.size} float32 values), ` +
            `got [${tensor.shape}] with ${tensor.data?.length ?? 0} values`,
        );
      }
      return tensor.data;
    });
  }
}
