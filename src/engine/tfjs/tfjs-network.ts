/**
 * A compiled network on tfjs. Parameters and velocities live in tfjs
 * variables (in tfjs layouts, see `layout.ts`); every call builds its graph
 * inside `tf.tidy`, so nothing but those variables outlives a call.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors.js';
import { paramKey, sizeOf, type ResolvedLayer, type ResolvedSpec } from '../../nn/spec.js';
import type { DropoutMaskFn, NamedTensor, Network, TrainStepOptions } from '../engine.js';
import { dropoutMask } from './dropout-mask.js';
import {
  flattenChw,
  inputToTfjs,
  nchwValuesToTfjs,
  paramShapeInTfjs,
  paramToBoundary,
  paramToTfjs,
} from './layout.js';

/** Floats of the largest activation per inference chunk (128 MiB): bounds memory when predicting many images. */
const CHUNK_FLOATS = 2 ** 25;

interface ParamSlot {
  key: string;
  layer: string;
  /** Boundary shape. */
  shape: number[];
  value: tf.Variable;
  velocity: tf.Variable;
}

interface Targets {
  y: tf.Tensor2D;
  mask: tf.Tensor2D;
  present: number;
}

/** Switches tfjs (one global backend) to ours; other engines may have switched it meanwhile. */
async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) await tf.setBackend(name);
}

export class TfjsNetwork implements Network {
  readonly spec: ResolvedSpec;
  readonly engineName: string;
  private readonly backend: string;
  private readonly slots: ParamSlot[] = [];
  private readonly byKey = new Map<string, ParamSlot>();
  private readonly params = new Map<string, { W?: tf.Variable; b?: tf.Variable }>();
  private readonly chunkSize: number;
  private readonly dropoutMask: DropoutMaskFn;
  private disposed = false;

  /** Call only with the backend already active (see `TfjsEngine.compile`); masks default to `dropoutMask`. */
  constructor(spec: ResolvedSpec, engineName: string, backend: string, masks: DropoutMaskFn = dropoutMask) {
    this.spec = spec;
    this.dropoutMask = masks;
    this.engineName = engineName;
    this.backend = backend;
    for (const layer of spec.layers) {
      const entry: { W?: tf.Variable; b?: tf.Variable } = {};
      for (const param of layer.params) {
        const internal = paramShapeInTfjs(param.shape);
        const slot: ParamSlot = {
          key: paramKey(layer.name, param.name),
          layer: layer.name,
          shape: [...param.shape],
          // tidy frees the zeros; variables are never freed by tidy.
          value: tf.tidy(() => tf.variable(tf.zeros(internal), true)),
          velocity: tf.tidy(() => tf.variable(tf.zeros(internal), false)),
        };
        entry[param.name] = slot.value;
        this.slots.push(slot);
        this.byKey.set(slot.key, slot);
      }
      this.params.set(layer.name, entry);
    }
    const largest = Math.max(...spec.layers.map((layer) => sizeOf(layer.outputShape)));
    this.chunkSize = Math.max(1, Math.min(1024, Math.floor(CHUNK_FLOATS / largest)));
  }

  async predict(x: Float32Array): Promise<Float32Array> {
    await this.ready();
    const n = this.batchCount(x);
    const out = new Float32Array(n * this.spec.outputSize);
    for (let start = 0; start < n; start += this.chunkSize) {
      if (start > 0) await this.ready(); // another network may have switched the backend while we awaited
      const count = Math.min(this.chunkSize, n - start);
      const xs = x.subarray(start * this.spec.inputSize, (start + count) * this.spec.inputSize);
      const pred = tf.tidy(() => this.forward(inputToTfjs(xs, count, this.spec.inputShape)));
      out.set(await pred.data(), start * this.spec.outputSize);
      pred.dispose();
    }
    return out;
  }

  async trainStep(x: Float32Array, y: Float32Array, options: TrainStepOptions): Promise<number> {
    await this.ready();
    const n = this.batchCount(x, y);
    const { learningRate, momentum, dropoutSeed } = options;
    const loss = tf.tidy(() => {
      const { value, grads } = this.lossAndGradients(x, y, n, dropoutSeed);
      for (const slot of this.slots) {
        const g = grads[slot.value.name];
        // Lasagne's Nesterov momentum, as engine.ts defines it.
        const step = tf.mul(g, learningRate);
        const v = tf.sub(tf.mul(slot.velocity, momentum), step);
        slot.value.assign(tf.sub(tf.add(slot.value, tf.mul(v, momentum)), step));
        slot.velocity.assign(v);
      }
      return value;
    });
    const result = (await loss.data())[0];
    loss.dispose();
    return result;
  }

  async evaluateLoss(x: Float32Array, y: Float32Array): Promise<number> {
    await this.ready();
    const n = this.batchCount(x, y);
    const { inputSize, outputSize } = this.spec;
    let sum = 0;
    let present = 0;
    for (let start = 0; start < n; start += this.chunkSize) {
      if (start > 0) await this.ready(); // another network may have switched the backend while we awaited
      const count = Math.min(this.chunkSize, n - start);
      const ys = y.subarray(start * outputSize, (start + count) * outputSize);
      const targets = maskTargets(ys, count, outputSize);
      const part = tf.tidy(() => {
        const xs = x.subarray(start * inputSize, (start + count) * inputSize);
        const pred = this.forward(inputToTfjs(xs, count, this.spec.inputShape));
        return tf.sum(tf.mul(tf.squaredDifference(pred, targets.y), targets.mask));
      });
      sum += (await part.data())[0];
      present += targets.present;
      tf.dispose([part, targets.y, targets.mask]);
    }
    return present === 0 ? 0 : sum / present;
  }

  async gradients(x: Float32Array, y: Float32Array): Promise<NamedTensor[]> {
    await this.ready();
    const n = this.batchCount(x, y);
    const tensors = tf.tidy(() => {
      const { grads } = this.lossAndGradients(x, y, n, undefined);
      return this.slots.map((slot) => paramToBoundary(grads[slot.value.name]));
    });
    return this.read(tensors);
  }

  async getWeights(): Promise<NamedTensor[]> {
    await this.ready();
    return this.read(tf.tidy(() => this.slots.map((slot) => paramToBoundary(slot.value))));
  }

  async setWeights(weights: NamedTensor[]): Promise<void> {
    await this.ready();
    this.assignAll(weights, 'value');
  }

  async getOptimizerState(): Promise<NamedTensor[]> {
    await this.ready();
    return this.read(tf.tidy(() => this.slots.map((slot) => paramToBoundary(slot.velocity))));
  }

  async setOptimizerState(state: NamedTensor[]): Promise<void> {
    await this.ready();
    this.assignAll(state, 'velocity');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const slot of this.slots) {
      slot.value.dispose();
      slot.velocity.dispose();
    }
  }

  private async ready(): Promise<void> {
    if (this.disposed) throw new Error(`this ${this.engineName} network was disposed`);
    await useBackend(this.backend);
  }

  /** Number of samples in a batch, checking `x` (and `y`) against the spec. */
  private batchCount(x: Float32Array, y?: Float32Array): number {
    const { inputSize, outputSize, layers } = this.spec;
    const n = x.length / inputSize;
    if (!Number.isInteger(n) || n < 1) {
      throw new ShapeError(
        layers[0].name,
        `x holds ${x.length} values: expected a positive multiple of ${inputSize}`,
      );
    }
    if (y !== undefined && y.length !== n * outputSize) {
      throw new ShapeError(
        layers[layers.length - 1].name,
        `y holds ${y.length} values: expected ${n * outputSize} (${n} samples x ${outputSize} outputs)`,
      );
    }
    return n;
  }

  /** Masked MSE and its gradients; call inside tf.tidy. `dropoutSeed` undefined: no dropout. */
  private lossAndGradients(
    x: Float32Array,
    y: Float32Array,
    n: number,
    dropoutSeed: number | undefined,
  ): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const xs = inputToTfjs(x, n, this.spec.inputShape);
    const targets = maskTargets(y, n, this.spec.outputSize);
    // With no target present the loss is 0 and so are the gradients.
    const denominator = Math.max(targets.present, 1);
    return tf.variableGrads(
      () => {
        const pred = this.forward(xs, dropoutSeed);
        return tf.div(
          tf.sum(tf.mul(tf.squaredDifference(pred, targets.y), targets.mask)),
          denominator,
        ) as tf.Scalar;
      },
      this.slots.map((slot) => slot.value),
    );
  }

  /** The layer stack on an NHWC (or flat) batch; dropout only when a seed is given. */
  private forward(x: tf.Tensor, dropoutSeed?: number): tf.Tensor2D {
    let h = x;
    for (const layer of this.spec.layers) h = this.applyLayer(layer, h, dropoutSeed);
    return h as tf.Tensor2D;
  }

  private applyLayer(layer: ResolvedLayer, h: tf.Tensor, dropoutSeed: number | undefined): tf.Tensor {
    switch (layer.kind) {
      case 'input':
        return h;
      case 'conv2d': {
        const { W, b } = this.params.get(layer.name)!;
        return tf.fused.conv2d({
          x: h as tf.Tensor4D,
          filter: W as tf.Tensor4D,
          bias: b,
          strides: 1,
          pad: 'valid',
          activation: layer.activation,
        });
      }
      case 'maxpool2d':
        return tf.maxPool(h as tf.Tensor4D, layer.poolSize, layer.poolSize, 'valid');
      case 'dense': {
        const { W, b } = this.params.get(layer.name)!;
        return tf.fused.matMul({
          a: flattenChw(h),
          b: W as tf.Tensor2D,
          bias: b,
          activation: layer.activation,
        });
      }
      case 'dropout': {
        if (dropoutSeed === undefined || layer.rate === 0) return h;
        const mask = this.dropoutMask(dropoutSeed, layer.name, layer.rate, h.size);
        if (mask.length !== h.size) {
          throw new ShapeError(layer.name, `dropoutMask gave ${mask.length} values, expected ${h.size}`);
        }
        return tf.mul(h, nchwValuesToTfjs(mask, h.shape));
      }
    }
  }

  private assignAll(tensors: NamedTensor[], field: 'value' | 'velocity'): void {
    const what = field === 'value' ? 'weights' : 'optimizer state';
    const given = new Map<string, NamedTensor>();
    for (const t of tensors) {
      const slot = this.byKey.get(t.name);
      if (!slot) {
        throw new ShapeError(t.name.split('.')[0], `${what}: this network has no parameter '${t.name}'`);
      }
      const size = sizeOf(slot.shape);
      if (
        t.shape.length !== slot.shape.length ||
        t.shape.some((d, i) => d !== slot.shape[i]) ||
        t.data.length !== size
      ) {
        throw new ShapeError(
          slot.layer,
          `${what}: '${t.name}' has shape [${t.shape}] and ${t.data.length} values, expected [${slot.shape}] (${size} values)`,
        );
      }
      given.set(t.name, t);
    }
    const missing = this.slots.filter((slot) => !given.has(slot.key));
    if (missing.length > 0) {
      throw new ShapeError(
        missing[0].layer,
        `${what}: missing ${missing.map((slot) => `'${slot.key}'`).join(', ')}`,
      );
    }
    tf.tidy(() => {
      for (const slot of this.slots) {
        const t = given.get(slot.key)!;
        slot[field].assign(paramToTfjs(t.shape, Float32Array.from(t.data)));
      }
    });
  }

  private async read(tensors: tf.Tensor[]): Promise<NamedTensor[]> {
    try {
      const data = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
      // Copies: the cpu backend hands out its own storage, which a caller must not be able to change.
      return this.slots.map((slot, i) => ({
        name: slot.key,
        shape: [...slot.shape],
        data: Float32Array.from(data[i]),
      }));
    } finally {
      tf.dispose(tensors);
    }
  }
}

/** Targets with NaN (missing) replaced by 0, a 0/1 mask of the present ones, and their count. */
function maskTargets(y: Float32Array, n: number, outputs: number): Targets {
  const filled = new Float32Array(y.length);
  const mask = new Float32Array(y.length);
  let present = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i])) continue;
    filled[i] = y[i];
    mask[i] = 1;
    present++;
  }
  return { y: tf.tensor2d(filled, [n, outputs]), mask: tf.tensor2d(mask, [n, outputs]), present };
}
