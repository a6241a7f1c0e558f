/**
 * A compiled network on tfjs. Parameters, layer state and optimizer state
 * (velocities, or Adam's moments) live in tfjs variables (in tfjs layouts,
 * see `layout.ts`); every call builds its graph inside `tf.tidy`, so nothing
 * but those variables outlives a call.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors.js';
import { sizeOf, weightInfos, type LayerKind, type ResolvedLayer, type ResolvedSpec } from '../../nn/spec.js';
import { resolveLoss, type LossSpec, type ResolvedLoss } from '../../nn/loss.js';
import {
  ADAM_STEP_NAME,
  adamMomentNames,
  adamStepSize,
  checkHyperparams,
  isDecayed,
  optimizerStateShapes,
  type OptimizerName,
} from '../../nn/optimizer.js';
import type { DropoutMaskFn, NamedTensor, Network, TrainStepOptions } from '../engine.js';
import { dropoutMask } from './dropout-mask.js';
import { maskedLossSum } from './tfjs-losses.js';
import { inputToTfjs, paramShapeInTfjs, paramToBoundary, paramToTfjs } from './layout.js';
import { TFJS_LAYERS, type TfjsLayerBuilder, type TfjsLayerContext } from './tfjs-layers.js';

/** Floats of the largest activation per inference chunk (128 MiB): bounds memory when predicting many images. */
const CHUNK_FLOATS = 2 ** 25;

interface ParamSlot {
  key: string;
  layer: string;
  /** Boundary shape. */
  shape: number[];
  value: tf.Variable;
  /** Nesterov's velocity, or Adam's first moment m; null for layer state (not trained by the optimiser). */
  velocity: tf.Variable | null;
  /** Adam's second moment v (Adam only). */
  second?: tf.Variable;
}

interface LayerVariables {
  params: Record<string, tf.Variable>;
  state: Record<string, tf.Variable>;
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
  /** Trainable parameters, in spec order. */
  private readonly slots: ParamSlot[] = [];
  /** Parameters and layer state, in the order of `weightInfos`. */
  private readonly weightSlots: ParamSlot[] = [];
  private readonly byKey = new Map<string, ParamSlot>();
  private readonly variables = new Map<string, LayerVariables>();
  private readonly chunkSize: number;
  private readonly dropoutMask: DropoutMaskFn;
  private disposed = false;
  readonly optimizer: OptimizerName;
  /** Updates applied so far (Adam's t). */
  private step = 0;

  /** Call only with the backend already active (see `TfjsEngine.compile`); masks default to `dropoutMask`. */
  constructor(
    spec: ResolvedSpec,
    engineName: string,
    backend: string,
    optimizer: OptimizerName = 'nesterov',
    masks: DropoutMaskFn = dropoutMask,
  ) {
    this.dropoutMask = masks;
    this.spec = spec;
    this.dropoutMask = masks;
    this.engineName = engineName;
    this.backend = backend;
    this.optimizer = optimizer;
    for (const layer of spec.layers) this.variables.set(layer.name, { params: {}, state: {} });
    for (const info of weightInfos(spec)) {
      const internal = paramShapeInTfjs(info.shape);
      const slot: ParamSlot = {
        key: info.key,
        layer: info.layer,
        shape: [...info.shape],
        // tidy frees the zeros; variables are never freed by tidy.
        value: tf.tidy(() => tf.variable(tf.zeros(internal), info.trainable)),
        velocity: info.trainable ? tf.tidy(() => tf.variable(tf.zeros(internal), false)) : null,
        ...(info.trainable && optimizer === 'adam'
          ? { second: tf.tidy(() => tf.variable(tf.zeros(internal), false)) }
          : {}),
      };
      this.variables.get(info.layer)![info.trainable ? 'params' : 'state'][info.name] = slot.value;
      if (info.trainable) this.slots.push(slot);
      this.weightSlots.push(slot);
      this.byKey.set(slot.key, slot);
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
    const h = checkHyperparams(this.optimizer, options);
    const loss = resolveLoss(options.loss);
    const t = this.step + 1;
    const stepSize = h.optimizer === 'adam' ? adamStepSize(h.learningRate, h.beta1, h.beta2, t) : 0;
    const result = tf.tidy(() => {
      const { value, grads } = this.lossAndGradients(x, y, n, options.dropoutSeed, true, loss);
      for (const slot of this.slots) {
        let g = grads[slot.value.name];
        if (h.weightDecay !== 0 && isDecayed(slot.key)) g = tf.add(g, tf.mul(slot.value, h.weightDecay));
        const velocity = slot.velocity!;
        if (h.optimizer === 'nesterov') {
          // Lasagne's Nesterov momentum, as engine.ts defines it.
          const step = tf.mul(g, h.learningRate);
          const v = tf.sub(tf.mul(velocity, h.momentum), step);
          slot.value.assign(tf.sub(tf.add(slot.value, tf.mul(v, h.momentum)), step));
          velocity.assign(v);
        } else {
          // Lasagne's Adam, as engine.ts defines it.
          const m = tf.add(tf.mul(velocity, h.beta1), tf.mul(g, 1 - h.beta1));
          const v = tf.add(tf.mul(slot.second!, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
          const update = tf.div(tf.mul(m, stepSize), tf.add(tf.sqrt(v), h.epsilon));
          slot.value.assign(tf.sub(slot.value, update));
          velocity.assign(m);
          slot.second!.assign(v);
        }
      }
      return value;
    });
    this.step = t;
    const lossValue = (await result.data())[0];
    result.dispose();
    return lossValue;
  }

  async evaluateLoss(x: Float32Array, y: Float32Array, lossSpec?: LossSpec): Promise<number> {
    await this.ready();
    const n = this.batchCount(x, y);
    const loss = resolveLoss(lossSpec);
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
        return maskedLossSum(loss, pred, targets.y, targets.mask);
      });
      sum += (await part.data())[0];
      present += targets.present;
      tf.dispose([part, targets.y, targets.mask]);
    }
    return present === 0 ? 0 : sum / present;
  }

  async gradients(x: Float32Array, y: Float32Array, loss?: LossSpec): Promise<NamedTensor[]> {
    await this.ready();
    const n = this.batchCount(x, y);
    const resolved = resolveLoss(loss);
    const tensors = tf.tidy(() => {
      const { grads } = this.lossAndGradients(x, y, n, undefined, false, resolved);
      return this.slots.map((slot) => paramToBoundary(grads[slot.value.name]));
    });
    return this.read(tensors, this.slots);
  }

  async getWeights(): Promise<NamedTensor[]> {
    await this.ready();
    return this.read(
      tf.tidy(() => this.weightSlots.map((slot) => paramToBoundary(slot.value))),
      this.weightSlots,
    );
  }

  async setWeights(weights: NamedTensor[]): Promise<void> {
    await this.ready();
    this.assignAll(weights, 'value');
  }

  async getOptimizerState(): Promise<NamedTensor[]> {
    await this.ready();
    const step = this.step;
    if (this.optimizer === 'nesterov') {
      return this.read(
        tf.tidy(() => this.slots.map((slot) => paramToBoundary(slot.velocity!))),
        this.slots,
      );
    }
    const moments = await this.read(
      tf.tidy(() =>
        this.slots.flatMap((slot) => [paramToBoundary(slot.velocity!), paramToBoundary(slot.second!)]),
      ),
      this.slots.flatMap((slot) => {
        const { m, v } = adamMomentNames(slot.key);
        return [
          { key: m, shape: slot.shape },
          { key: v, shape: slot.shape },
        ];
      }),
    );
    return [...moments, { name: ADAM_STEP_NAME, shape: [1], data: Float32Array.of(step) }];
  }

  async setOptimizerState(state: NamedTensor[]): Promise<void> {
    await this.ready();
    if (this.optimizer === 'nesterov') {
      this.assignAll(state, 'velocity');
      return;
    }
    const expected = optimizerStateShapes(this.spec, 'adam');
    const given = new Map(state.map((t) => [t.name, t]));
    for (const t of state) {
      if (!expected.some((e) => e.name === t.name)) {
        throw new ShapeError(t.name.split('.')[0], `optimizer state: Adam has no state tensor '${t.name}'`);
      }
    }
    for (const e of expected) {
      const t = given.get(e.name);
      if (!t) throw new ShapeError(e.name.split('.')[0], `optimizer state: '${e.name}' is missing`);
      if (t.shape.join('x') !== e.shape.join('x') || t.data.length !== sizeOf(e.shape)) {
        throw new ShapeError(
          e.name.split('.')[0],
          `optimizer state: '${e.name}' has shape [${t.shape}] and ${t.data.length} values, expected [${e.shape}]`,
        );
      }
    }
    const step = given.get(ADAM_STEP_NAME)!.data[0];
    if (!Number.isInteger(step) || step < 0) {
      throw new ShapeError(ADAM_STEP_NAME, `optimizer state: step must be a whole number >= 0, got ${step}`);
    }
    tf.tidy(() => {
      for (const slot of this.slots) {
        const { m, v } = adamMomentNames(slot.key);
        slot.velocity!.assign(paramToTfjs(slot.shape, Float32Array.from(given.get(m)!.data)));
        slot.second!.assign(paramToTfjs(slot.shape, Float32Array.from(given.get(v)!.data)));
      }
    });
    this.step = step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const slot of this.weightSlots) {
      slot.value.dispose();
      slot.velocity?.dispose();
      slot.second?.dispose();
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

  /**
   * The masked loss and its gradients in training mode; call inside tf.tidy.
   * `dropoutSeed` undefined: no dropout; `updateState`: update layer state (training steps).
   */
  private lossAndGradients(
    x: Float32Array,
    y: Float32Array,
    n: number,
    dropoutSeed: number | undefined,
    updateState: boolean,
    loss: ResolvedLoss,
  ): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const xs = inputToTfjs(x, n, this.spec.inputShape);
    const targets = maskTargets(y, n, this.spec.outputSize);
    // With no target present the loss is 0 and so are the gradients.
    const denominator = Math.max(targets.present, 1);
    return tf.variableGrads(
      () => {
        const pred = this.forward(xs, { training: true, dropoutSeed, updateState });
        return tf.div(maskedLossSum(loss, pred, targets.y, targets.mask), denominator) as tf.Scalar;
      },
      this.slots.map((slot) => slot.value),
    );
  }

  /** The layer stack on an NHWC (or flat) batch; inference mode unless `mode` says otherwise. */
  private forward(
    x: tf.Tensor,
    mode: Pick<TfjsLayerContext, 'training' | 'dropoutSeed' | 'updateState'> = {
      training: false,
      updateState: false,
    },
  ): tf.Tensor2D {
    let h = x;
    for (const layer of this.spec.layers) h = this.applyLayer(layer, h, mode);
    return h as tf.Tensor2D;
  }

  private applyLayer(
    layer: ResolvedLayer,
    h: tf.Tensor,
    mode: Pick<TfjsLayerContext, 'training' | 'dropoutSeed' | 'updateState'>,
  ): tf.Tensor {
    const build = TFJS_LAYERS[layer.kind] as TfjsLayerBuilder<LayerKind>;
    return build(layer, h, { ...this.variables.get(layer.name)!, ...mode, dropoutMask: this.dropoutMask });
  }

  private assignAll(tensors: NamedTensor[], field: 'value' | 'velocity'): void {
    const what = field === 'value' ? 'weights' : 'optimizer state';
    const slots = field === 'value' ? this.weightSlots : this.slots;
    const given = new Map<string, NamedTensor>();
    for (const t of tensors) {
      const slot = this.byKey.get(t.name);
      if (!slot || (field === 'velocity' && slot.velocity === null)) {
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
    const missing = slots.filter((slot) => !given.has(slot.key));
    if (missing.length > 0) {
      throw new ShapeError(
        missing[0].layer,
        `${what}: missing ${missing.map((slot) => `'${slot.key}'`).join(', ')}`,
      );
    }
    tf.tidy(() => {
      for (const slot of slots) {
        const t = given.get(slot.key)!;
        slot[field]!.assign(paramToTfjs(t.shape, Float32Array.from(t.data)));
      }
    });
  }

  private async read(
    tensors: tf.Tensor[],
    names: { key: string; shape: number[] }[],
  ): Promise<NamedTensor[]> {
    try {
      const data = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
      // Copies: the cpu backend hands out its own storage, which a caller must not be able to change.
      return names.map((slot, i) => ({
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
