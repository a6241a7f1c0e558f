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
import { paramKey, resolveSpec, type NetworkSpec, type ResolvedSpec } from '../../nn/spec.js';
import type {
  CompileOptions,
  DropoutMaskFn,
  Engine,
  NamedTensor,
  Network,
  TrainStepOptions,
} from '../engine.js';

/** Layer description the addon reads (see parse_layer in native/addon.cc). */
interface AddonLayer {
  kind: string;
  name: string;
  relu: boolean;
  filters?: number;
  kernelH?: number;
  kernelW?: number;
  poolSize?: number;
  units?: number;
  rate?: number;
  inShape: number[];
  outShape: number[];
}

interface AddonNetwork {
  predict(x: Float32Array): Promise<Float32Array>;
  trainStep(
    x: Float32Array,
    y: Float32Array,
    learningRate: number,
    momentum: number,
    seed: number,
    masks?: Float32Array[],
  ): Promise<number>;
  evaluateLoss(x: Float32Array, y: Float32Array): Promise<number>;
  gradients(x: Float32Array, y: Float32Array): Promise<{ loss: number; grads: Float32Array[] }>;
  getParams(velocity: boolean): Promise<Float32Array[]>;
  setParams(values: Float32Array[], velocity: boolean): Promise<void>;
  probeThreads(): Promise<number>;
  describe(): Promise<string>;
  dispose(): void;
}

interface Addon {
  NativeNetwork: new (layers: AddonLayer[], threads: number) => AddonNetwork;
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
      const handle = new addon.NativeNetwork(toAddonLayers(resolved), threads);
      return new NativeNetwork(resolved, handle, threads, compileOptions.dropoutMask);
    },
  };
}

function toAddonLayers(spec: ResolvedSpec): AddonLayer[] {
  return spec.layers.map((layer) => {
    const base = {
      kind: layer.kind,
      name: layer.name,
      inShape: layer.inputShape,
      outShape: layer.outputShape,
    };
    switch (layer.kind) {
      case 'conv2d':
        return {
          ...base,
          relu: layer.activation === 'relu',
          filters: layer.filters,
          kernelH: layer.kernelSize[0],
          kernelW: layer.kernelSize[1],
        };
      case 'dense':
        return { ...base, relu: layer.activation === 'relu', units: layer.units };
      case 'maxpool2d':
        return { ...base, relu: false, poolSize: layer.poolSize };
      case 'dropout':
        return { ...base, relu: false, rate: layer.rate };
      default:
        return { ...base, relu: false };
    }
  });
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
  private readonly params: ParamInfo[];
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private disposed = false;

  constructor(
    readonly spec: ResolvedSpec,
    private readonly handle: AddonNetwork,
    /** Threads (OpenMP team size) this network computes with. */
    readonly threads: number,
    /** The caller's dropout masks (CompileOptions.dropoutMask); default: the addon draws its own. */
    private readonly dropoutMask?: DropoutMaskFn,
  ) {
    this.params = spec.layers.flatMap((layer) =>
      layer.params.map((param) => ({
        name: paramKey(layer.name, param.name),
        layer: layer.name,
        shape: [...param.shape],
        size: param.shape.reduce((a, b) => a * b, 1),
      })),
    );
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
    const { learningRate, momentum, dropoutSeed } = options;
    for (const [key, value] of Object.entries({ learningRate, momentum, dropoutSeed })) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new ConfigError(`trainStep: ${key} must be a finite number, got ${value}`);
      }
    }
    const masks = this.dropoutMask ? this.masksFor(x.length / this.spec.inputSize, dropoutSeed) : undefined;
    return this.run(
      ([xs, ys, ...given]) =>
        this.handle.trainStep(
          xs,
          ys,
          learningRate,
          momentum,
          Math.trunc(dropoutSeed),
          masks ? given : undefined,
        ),
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

  async evaluateLoss(x: Float32Array, y: Float32Array): Promise<number> {
    this.batchSize(x, y);
    return this.run(([xs, ys]) => this.handle.evaluateLoss(xs, ys), [x, y]);
  }

  async gradients(x: Float32Array, y: Float32Array): Promise<NamedTensor[]> {
    this.batchSize(x, y);
    const { grads } = await this.run(([xs, ys]) => this.handle.gradients(xs, ys), [x, y]);
    return this.named(grads);
  }

  async getWeights(): Promise<NamedTensor[]> {
    return this.named(await this.run(() => this.handle.getParams(false)));
  }

  async setWeights(weights: NamedTensor[]): Promise<void> {
    const values = this.ordered(weights, 'setWeights');
    return this.run((copies) => this.handle.setParams(copies, false), values);
  }

  async getOptimizerState(): Promise<NamedTensor[]> {
    return this.named(await this.run(() => this.handle.getParams(true)));
  }

  async setOptimizerState(state: NamedTensor[]): Promise<void> {
    const values = this.ordered(state, 'setOptimizerState');
    return this.run((copies) => this.handle.setParams(copies, true), values);
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

  private ordered(tensors: NamedTensor[], what: string): Float32Array[] {
    const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
    const known = new Set(this.params.map((param) => param.name));
    for (const tensor of tensors) {
      if (!known.has(tensor.name)) {
        throw new ShapeError(
          tensor.name.split('.')[0],
          `${what}: this network has no parameter '${tensor.name}'`,
        );
      }
    }
    return this.params.map((param) => {
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
