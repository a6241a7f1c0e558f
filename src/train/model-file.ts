/**
 * The model file format: one binary file holding everything needed to
 * predict with a net or to go on training it. Pure functions over bytes (no
 * node: imports), so a browser can parse a model fetched over HTTP; the Node
 * file wrappers live in `model-file-node.ts`.
 *
 * Layout (little-endian):
 *   0  8 bytes  magic "FPMODEL\0"
 *   8  u32      format version: 1, or 2 for nets that only readers of version 2
 *               can resume right (an Adam optimizer, a loss other than the MSE)
 *  12  u32      header length H (JSON, UTF-8)
 *  16  u32      payload length P (float32 tensor data)
 *  20  u32      reserved (0)
 *  24  H bytes  header, then zero padding to a multiple of 8
 *      P bytes  payload
 *      u32      CRC-32 of every byte before it
 * The header is JSON in which every Float32Array is replaced by
 * `{"$f32": [offset, length]}` into the payload and every non-finite number by
 * `{"$num": "NaN"}`; the checksum makes a truncated or corrupt file fail
 * loudly instead of loading garbage weights.
 */
import CRC32 from 'crc-32';
import type { NamedTensor } from '../engine/engine.js';
import { ModelFileError } from '../errors.js';
import { resolveLoss, type LossSpec } from '../nn/loss.js';
import { checkOptimizerName, optimizerStateShapes, type OptimizerName } from '../nn/optimizer.js';
import { layerTensors, resolveSpec, sizeOf, type NetworkSpec } from '../nn/spec.js';
import type { BatchIteratorConfig } from './batch-iterator.js';
import type { CallbackConfig } from './callbacks/types.js';
import { historyFromJson, type EpochRecord } from './history.js';
import type { TrainSplitConfig } from './train-split.js';

const MAGIC = [0x46, 0x50, 0x4d, 0x4f, 0x44, 0x45, 0x4c, 0x00]; // "FPMODEL\0"
/** The newest format version this code reads and writes. */
const VERSION = 2;
const PREFIX = 24;
const MAX_U32 = 0xffffffff;

/** What a model file holds. Float32Arrays may appear anywhere in callback state or metadata. */
export interface ModelContent {
  spec: NetworkSpec;
  /** The run's seed: every random stream (init, shuffle, flips, dropout, split) derives from it. */
  seed: number;
  /** Parameters and non-trainable layer state (batch norm's running `mean` and `var`), see `weightInfos`. */
  weights: NamedTensor[];
  /** The update rule the net trains with; absent in files written before Adam: 'nesterov'. */
  optimizer?: OptimizerName;
  /**
   * The optimizer's state as `optimizerStateShapes` (nn/optimizer.ts) lists it:
   * Nesterov velocities, one per parameter named like it; Adam `P/m` and `P/v`
   * per parameter and `step`. Null for a net that never trained.
   */
  optimizerState: NamedTensor[] | null;
  /** Hyper-parameter variables as they stood when saved (updateLearningRate, updateMomentum, ...). */
  variables: Record<string, number>;
  history: EpochRecord[];
  /** Training setup, so a loaded net can resume without the original script. */
  training: {
    maxEpochs: number;
    regression: boolean;
    /** The training loss; absent in files written before it could be chosen: the masked MSE. */
    loss?: LossSpec;
    verbose: number;
    batchIteratorTrain: BatchIteratorConfig | null;
    batchIteratorTest: BatchIteratorConfig | null;
    trainSplit: TrainSplitConfig | null;
    /** Built-in callbacks; function handlers cannot be saved and are listed in `droppedCallbacks`. */
    callbacks: CallbackConfig[];
    droppedCallbacks: number;
  };
  /** State of stateful callbacks, by their stateKey (e.g. EarlyStopping's best weights). */
  callbackState: Record<string, unknown>;
  /** Free-form data of the caller, e.g. `{ schema: 'kaggle15' }`. */
  metadata: Record<string, unknown>;
  /** Engine that trained the net (informative only: weights load into any engine). */
  engineName?: string;
}

/**
 * The content of a model file for weights that never trained: no optimiser
 * state, history or callbacks (exported or benchmarked nets, test fixtures).
 *
 * @example
 * const content = untrainedModelContent(spec, initWeights(resolveSpec(spec), 1), 1, { schema: 'kaggle15' });
 */
export function untrainedModelContent(
  spec: NetworkSpec,
  weights: NamedTensor[],
  seed: number,
  metadata: Record<string, unknown>,
): ModelContent {
  return {
    spec,
    seed,
    weights,
    optimizerState: null,
    variables: {},
    history: [],
    training: {
      maxEpochs: 1,
      regression: true,
      verbose: 0,
      batchIteratorTrain: null,
      batchIteratorTest: null,
      trainSplit: null,
      callbacks: [],
      droppedCallbacks: 0,
    },
    callbackState: {},
    metadata,
  };
}

/**
 * The oldest format version that describes this content: 1 while the net
 * trains as every net did before (Nesterov, masked MSE), so older readers
 * still load it; 2 otherwise, so older readers refuse it instead of resuming
 * it with the wrong update or loss.
 */
export function formatVersionOf(content: ModelContent): number {
  const nesterov = (content.optimizer ?? 'nesterov') === 'nesterov';
  const mse = content.training?.loss === undefined || content.training.loss.kind === 'mse';
  return nesterov && mse ? 1 : 2;
}

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}

/**
 * Encodes a model as bytes.
 *
 * @example
 * const bytes = serializeModelFile(content);
 * const again = parseModelFile(bytes, 'net.fpm');
 */
export function serializeModelFile(content: ModelContent): Uint8Array {
  const arrays: Float32Array[] = [];
  let payloadLength = 0;
  const header = JSON.stringify(content, (_key, value: unknown) => {
    if (value instanceof Float32Array) {
      arrays.push(value);
      const ref = { $f32: [payloadLength, value.length] };
      payloadLength += value.length * 4;
      return ref;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { $num: String(value) };
    return value;
  });
  const headerBytes = new TextEncoder().encode(header);
  const headerPadded = Math.ceil(headerBytes.length / 8) * 8;
  const total = PREFIX + headerPadded + payloadLength + 4;
  if (headerBytes.length > MAX_U32 || payloadLength > MAX_U32) {
    throw new RangeError(`model too large for format version ${VERSION}: ${total} bytes`);
  }
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, formatVersionOf(content), true);
  view.setUint32(12, headerBytes.length, true);
  view.setUint32(16, payloadLength, true);
  view.setUint32(20, 0, true);
  bytes.set(headerBytes, PREFIX);
  let offset = PREFIX + headerPadded;
  const le = littleEndianHost();
  for (const array of arrays) {
    if (le) {
      bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
    } else {
      for (let i = 0; i < array.length; i++) view.setFloat32(offset + i * 4, array[i], true);
    }
    offset += array.byteLength;
  }
  view.setUint32(total - 4, CRC32.buf(bytes.subarray(0, total - 4)) >>> 0, true);
  return bytes;
}

/**
 * Decodes and checks a model file. `file` only names the source in errors.
 *
 * @throws ModelFileError saying what is wrong: not a model file, a newer
 *   format, truncated, checksum mismatch, or content that does not fit its spec.
 * @example
 * const content = parseModelFile(new Uint8Array(await (await fetch('net.fpm')).arrayBuffer()), 'net.fpm');
 */
export function parseModelFile(bytes: Uint8Array, file = '(model bytes)'): ModelContent {
  const fail = (detail: string): never => {
    throw new ModelFileError(file, detail);
  };
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    if (bytes.length < MAGIC.length && MAGIC.slice(0, bytes.length).every((b, i) => bytes[i] === b)) {
      fail(`truncated: ${bytes.length} bytes, a model file has at least ${PREFIX + 4}`);
    }
    fail('not a facepoints model file (wrong magic bytes at the start)');
  }
  if (bytes.length < PREFIX + 4)
    fail(`truncated: ${bytes.length} bytes, a model file has at least ${PREFIX + 4}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version < 1 || version > VERSION) {
    fail(
      version > VERSION
        ? `format version ${version} is newer than this facepoints reads (${VERSION})`
        : `unknown format version ${version}`,
    );
  }
  const headerLength = view.getUint32(12, true);
  const payloadLength = view.getUint32(16, true);
  const headerPadded = Math.ceil(headerLength / 8) * 8;
  const expected = PREFIX + headerPadded + payloadLength + 4;
  if (bytes.length < expected)
    fail(`truncated: ${bytes.length} bytes of the ${expected} its header announces`);
  if (bytes.length > expected)
    fail(`${bytes.length - expected} unexpected bytes after the end (${expected} announced)`);
  const stored = view.getUint32(expected - 4, true);
  const computed = CRC32.buf(bytes.subarray(0, expected - 4)) >>> 0;
  if (stored !== computed) {
    fail(`corrupt: checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`);
  }
  const payloadStart = PREFIX + headerPadded;
  const le = littleEndianHost();
  let content: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(PREFIX, PREFIX + headerLength),
    );
    content = JSON.parse(text, (_key, value: unknown) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const record = value as Record<string, unknown>;
        if ('$f32' in record) {
          const [offset, length] = record.$f32 as [number, number];
          if (
            !Number.isInteger(offset) ||
            !Number.isInteger(length) ||
            offset < 0 ||
            length < 0 ||
            offset + length * 4 > payloadLength
          ) {
            throw new Error(
              `tensor reference [${offset}, ${length}] outside the ${payloadLength}-byte payload`,
            );
          }
          const start = bytes.byteOffset + payloadStart + offset;
          if (le) return new Float32Array(bytes.buffer.slice(start, start + length * 4));
          return Float32Array.from({ length }, (_, i) =>
            view.getFloat32(payloadStart + offset + i * 4, true),
          );
        }
        if ('$num' in record) return Number(record.$num);
      }
      return value;
    });
  } catch (error) {
    fail(`corrupt header: ${(error as Error).message}`);
  }
  return checkContent(content, fail);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** Refuses NaN or infinite numbers in tensors: a net that diverged while training predicts nothing useful. */
function checkFinite(tensors: NamedTensor[], what: string, fail: (detail: string) => never): void {
  for (const tensor of tensors) {
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        fail(
          `${what}: parameter ${tensor.name} holds ${data[i]} (value ${i + 1} of ${data.length}): ` +
            'the net diverged while training; train it again with a lower learning rate',
        );
      }
    }
  }
}

function checkContent(content: unknown, fail: (detail: string) => never): ModelContent {
  if (!content || typeof content !== 'object') fail('header is not an object');
  const c = content as ModelContent;
  let resolved;
  try {
    resolved = resolveSpec(c.spec);
  } catch (error) {
    return fail(`the network spec is invalid: ${(error as Error).message}`);
  }
  if (typeof c.seed !== 'number') fail('seed is missing');
  const checkTensors = (tensors: unknown, what: string, expected: { name: string; shape: number[] }[]) => {
    if (!Array.isArray(tensors)) fail(`${what} is missing`);
    const byName = new Map((tensors as NamedTensor[]).map((t) => [t.name, t]));
    for (const { name, shape } of expected) {
      const tensor = byName.get(name);
      if (!tensor || !(tensor.data instanceof Float32Array)) fail(`${what}: ${name} is missing`);
      if (tensor.data.length !== sizeOf(shape) || tensor.shape.join('x') !== shape.join('x')) {
        fail(`${what}: ${name} has shape [${tensor.shape}], the spec needs [${shape}]`);
      }
    }
  };
  // Weights hold every layer's parameters and its state (batch norm's running statistics).
  checkTensors(
    c.weights,
    'weights',
    resolved.layers.flatMap((layer) =>
      layerTensors(layer).map((param) => ({ name: `${layer.name}.${param.name}`, shape: param.shape })),
    ),
  );
  let optimizer: OptimizerName = 'nesterov';
  try {
    if (c.optimizer !== undefined) optimizer = checkOptimizerName(c.optimizer);
    if (c.training?.loss !== undefined) resolveLoss(c.training.loss);
  } catch (error) {
    fail((error as Error).message);
  }
  if (c.optimizerState !== null) {
    checkTensors(
      c.optimizerState,
      `optimizer state (${optimizer})`,
      optimizerStateShapes(resolved, optimizer),
    );
  }
  checkFinite(c.weights, 'weights', fail);
  if (c.optimizerState !== null) checkFinite(c.optimizerState, 'optimizer state', fail);
  if (!c.variables || typeof c.variables !== 'object') fail('variables are missing');
  try {
    c.history = historyFromJson(c.history);
  } catch (error) {
    fail((error as Error).message);
  }
  if (!c.training || typeof c.training.maxEpochs !== 'number') fail('training setup is missing');
  c.callbackState ??= {};
  c.metadata ??= {};
  return c;
}
