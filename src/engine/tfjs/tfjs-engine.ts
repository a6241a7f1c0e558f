/**
 * The reference engine: @tensorflow/tfjs on its wasm backend (XNNPACK), with
 * the cpu backend as the fallback where WebAssembly cannot load. Runs in
 * Node and in the browser alike (no Node-only imports here). It is the
 * slow, portable engine that every other engine is checked against.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from '../../errors.js';
import { resolveSpec, type NetworkSpec } from '../../nn/spec.js';
import type { CompileOptions, Engine, Network } from '../engine.js';
import { TfjsNetwork } from './tfjs-network.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

export type TfjsBackendName = 'wasm' | 'cpu';

export interface TfjsEngineOptions {
  /** Backend to use (default 'wasm'); where wasm cannot load, the engine falls back to 'cpu'. */
  backend?: TfjsBackendName;
  /**
   * Where the browser finds the backend's .wasm files (a URL prefix ending in
   * '/', or a map from file name to URL), passed to tfjs' `setWasmPaths`.
   * Not needed in Node, nor in bundlers that serve the files next to the script.
   */
  wasmPaths?: string | Record<string, string>;
}

class TfjsEngine implements Engine {
  readonly name: string;
  private readonly backend: TfjsBackendName;

  constructor(backend: TfjsBackendName) {
    this.backend = backend;
    this.name = `tfjs-${backend}`;
  }

  // Threads are not used: tfjs' wasm build runs one thread in Node, and the threaded build needs cross-origin isolation.
  async compile(spec: NetworkSpec, _options?: CompileOptions): Promise<Network> {
    const resolved = resolveSpec(spec);
    if (tf.getBackend() !== this.backend) await tf.setBackend(this.backend);
    return new TfjsNetwork(resolved, this.name, this.backend);
  }
}

/** Runs `action` with tfjs' own console warnings off (failed backend init, the cpu backend's Node advert). */
async function quietly<T>(action: () => Promise<T>): Promise<T> {
  const env = tf.env();
  const wasProd = env.getBool('PROD');
  env.set('PROD', true);
  try {
    return await action();
  } finally {
    env.set('PROD', wasProd);
  }
}

async function activateWasm(wasmPaths: TfjsEngineOptions['wasmPaths']): Promise<boolean> {
  try {
    registerWasmTrainingKernels();
    if (wasmPaths !== undefined) setWasmPaths(wasmPaths);
    return await quietly(() => tf.setBackend('wasm'));
  } catch {
    return false;
  }
}

async function activateCpu(): Promise<void> {
  await quietly(async () => {
    if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend failed to initialise');
    // The cpu backend warns on its first write in Node; make that write here, silenced.
    tf.tidy(() => {
      tf.scalar(0);
    });
  });
}

/**
 * Creates the tfjs engine. Asks for the wasm backend by default and falls
 * back to the cpu backend (without noise) where wasm cannot load; `name`
 * says which one runs: 'tfjs-wasm' or 'tfjs-cpu'.
 *
 * @example
 * const engine = await createTfjsEngine();
 * const network = await engine.compile(spec);
 * await network.setWeights(initWeights(network.spec, 42));
 * const loss = await network.trainStep(x, y, { learningRate: 0.01, momentum: 0.9, dropoutSeed: 1 });
 */
export async function createTfjsEngine(options: TfjsEngineOptions = {}): Promise<Engine> {
  const wanted = options.backend ?? 'wasm';
  if (wanted !== 'wasm' && wanted !== 'cpu') {
    throw new ConfigError(`unknown tfjs backend '${String(wanted)}': expected 'wasm' or 'cpu'`);
  }
  if (wanted === 'wasm' && (await activateWasm(options.wasmPaths))) return new TfjsEngine('wasm');
  await activateCpu();
  return new TfjsEngine('cpu');
}
