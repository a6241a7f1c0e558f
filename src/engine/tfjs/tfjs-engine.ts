/**
 * The reference engine: @tensorflow/tfjs on its wasm backend (XNNPACK), with
 * the cpu backend as the fallback where WebAssembly cannot load. Runs in
 * Node and in the browser alike (no Node-only imports here). It is the
 * slow, portable engine that every other engine is checked against.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from '../../errors.js';
import { checkOptimizerName } from '../../nn/optimizer.js';
import { resolveSpec, type NetworkSpec } from '../../nn/spec.js';
import type { CompileOptions, Engine, Network } from '../engine.js';
import { TfjsNetwork } from './tfjs-network.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

/** 'webgl' exists only in a browser with WebGL; elsewhere it falls back to 'wasm', then 'cpu'. */
export type TfjsBackendName = 'wasm' | 'cpu' | 'webgl';

export interface TfjsEngineOptions {
  /** Backend to use (default 'wasm'); 'webgl' falls back to 'wasm' where WebGL is missing, and 'wasm' to 'cpu' where wasm cannot load. */
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
  /** Why wasm was not used, when the engine fell back to the cpu backend. */
  readonly fallbackReason?: string;
  private readonly backend: TfjsBackendName;

  constructor(backend: TfjsBackendName, fallbackReason?: string) {
    this.backend = backend;
    this.name = `tfjs-${backend}`;
    if (fallbackReason !== undefined) this.fallbackReason = fallbackReason;
  }

  // Threads are not used: tfjs' wasm build runs one thread in Node, and the threaded build needs cross-origin isolation.
  async compile(spec: NetworkSpec, options: CompileOptions = {}): Promise<Network> {
    const resolved = resolveSpec(spec);
    const optimizer = checkOptimizerName(options.optimizer ?? 'nesterov', 'compile: optimizer');
    if (tf.getBackend() !== this.backend) await tf.setBackend(this.backend);
    return new TfjsNetwork(resolved, this.name, this.backend, optimizer, options.dropoutMask);
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

/**
 * Runs `action` while holding back console.warn / console.error: when the
 * .wasm file cannot load, Emscripten prints its abort messages before tfjs
 * rejects, and neither offers a hook to route them. Held messages are
 * returned; the caller replays them if they turn out not to be about a failure.
 */
async function holdingConsole<T>(action: () => Promise<T>): Promise<{ value: T; held: unknown[][] }> {
  const held: unknown[][] = [];
  const original = { warn: console.warn, error: console.error };
  let holding = true;
  // Emscripten binds console functions once; after we are done they must forward again.
  const make =
    (to: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (holding) held.push(args);
      else to.apply(console, args);
    };
  console.warn = make(original.warn);
  console.error = make(original.error);
  try {
    return { value: await action(), held };
  } finally {
    holding = false;
    console.warn = original.warn;
    console.error = original.error;
  }
}

/** Activates the wasm backend; resolves to undefined on success, else to the reason it failed. */
async function activateWasm(wasmPaths: TfjsEngineOptions['wasmPaths']): Promise<string | undefined> {
  try {
    registerWasmTrainingKernels();
    if (wasmPaths !== undefined) setWasmPaths(wasmPaths);
    const { value: ok, held } = await holdingConsole(() => quietly(() => tf.setBackend('wasm')));
    if (ok) {
      for (const args of held) console.warn(...args);
      return undefined;
    }
    return (
      held.map((args) => args.map(String).join(' ')).join('\n') || 'the wasm backend failed to initialise'
    );
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
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
 * says which one runs: 'tfjs-wasm' or 'tfjs-cpu', and `fallbackReason` why
 * wasm was not used.
 *
 * @example
 * const engine = await createTfjsEngine();
 * const network = await engine.compile(spec);
 * await network.setWeights(initWeights(network.spec, 42));
 * const loss = await network.trainStep(x, y, { learningRate: 0.01, momentum: 0.9, dropoutSeed: 1 });
 */
export async function createTfjsEngine(
  options: TfjsEngineOptions = {},
): Promise<Engine & { readonly fallbackReason?: string }> {
  const wanted = options.backend ?? 'wasm';
  if (wanted !== 'wasm' && wanted !== 'cpu' && wanted !== 'webgl') {
    throw new ConfigError(`unknown tfjs backend '${String(wanted)}': expected 'wasm', 'webgl' or 'cpu'`);
  }
  let webglFailure: string | undefined;
  if (wanted === 'webgl') {
    if (await quietly(async () => (tf.findBackendFactory('webgl') ? tf.setBackend('webgl') : false)))
      return new TfjsEngine('webgl');
    webglFailure = 'the webgl backend failed to initialise (no WebGL here)';
  }
  const failure = wanted !== 'cpu' ? await activateWasm(options.wasmPaths) : 'the cpu backend was asked for';
  if (failure === undefined) return new TfjsEngine('wasm', webglFailure);
  await activateCpu();
  return new TfjsEngine(
    'cpu',
    wanted !== 'cpu' ? [webglFailure, failure].filter(Boolean).join('; ') : undefined,
  );
}
