/**
 * A float64 reference of the network maths, written straight from the
 * conventions in `nn/spec.ts` (NCHW, conv W [out, in, kh, kw], dense W
 * [in, out], flatten in C, H, W order) and the masked MSE of `engine.ts`,
 * with no tfjs in sight. Engines are checked against it, and its central
 * differences give gradients precise enough to judge float32 engines.
 */
import type { NamedTensor } from '../../../src/engine/engine.js';
import { Rng } from '../../../src/random/rng.js';
import { sizeOf, type ResolvedSpec } from '../../../src/nn/spec.js';

export type Params = Map<string, Float64Array>;

/** Random parameters (biases too, so relu patterns vary), uniform in [-scale, scale]. */
export function randomParams(spec: ResolvedSpec, seed: number, scale = 0.5): NamedTensor[] {
  const rng = new Rng(seed, 'test-params');
  return spec.layers.flatMap((layer) =>
    layer.params.map((p) => ({
      name: `${layer.name}.${p.name}`,
      shape: [...p.shape],
      data: Float32Array.from({ length: sizeOf(p.shape) }, () => rng.uniform(-scale, scale)),
    })),
  );
}

export function randomArray(length: number, seed: number, low = -1, high = 1): Float32Array {
  const rng = new Rng(seed, 'test-array');
  return Float32Array.from({ length }, () => rng.uniform(low, high));
}

export function toParams(weights: NamedTensor[]): Params {
  return new Map(weights.map((w) => [w.name, Float64Array.from(w.data)]));
}

interface Activation {
  shape: number[];
  data: Float64Array;
}

/** Dropout masks per layer name, `n * units` values in sample, C, H, W order (as `dropoutMask` draws them). */
export type Masks = Map<string, Float32Array>;

function forwardOne(
  spec: ResolvedSpec,
  params: Params,
  x: Float64Array,
  sample: number,
  masks?: Masks,
): Float64Array {
  let a: Activation = { shape: spec.inputShape, data: x };
  for (const layer of spec.layers) {
    switch (layer.kind) {
      case 'input':
        break;
      case 'conv2d': {
        const W = params.get(`${layer.name}.W`)!;
        const b = params.get(`${layer.name}.b`)!;
        const [c, h, w] = a.shape;
        const [kh, kw] = layer.kernelSize;
        const [f, oh, ow] = layer.outputShape;
        const out = new Float64Array(f * oh * ow);
        for (let o = 0; o < f; o++) {
          for (let y = 0; y < oh; y++) {
            for (let xx = 0; xx < ow; xx++) {
              let s = b[o];
              for (let ci = 0; ci < c; ci++) {
                for (let i = 0; i < kh; i++) {
                  for (let j = 0; j < kw; j++) {
                    s += a.data[(ci * h + y + i) * w + xx + j] * W[((o * c + ci) * kh + i) * kw + j];
                  }
                }
              }
              out[(o * oh + y) * ow + xx] = layer.activation === 'relu' ? Math.max(0, s) : s;
            }
          }
        }
        a = { shape: layer.outputShape, data: out };
        break;
      }
      case 'maxpool2d': {
        const [c, h, w] = a.shape;
        const p = layer.poolSize;
        const [, oh, ow] = layer.outputShape;
        const out = new Float64Array(c * oh * ow);
        for (let ci = 0; ci < c; ci++) {
          for (let y = 0; y < oh; y++) {
            for (let xx = 0; xx < ow; xx++) {
              let m = -Infinity;
              for (let i = 0; i < p; i++) {
                for (let j = 0; j < p; j++) m = Math.max(m, a.data[(ci * h + y * p + i) * w + xx * p + j]);
              }
              out[(ci * oh + y) * ow + xx] = m;
            }
          }
        }
        a = { shape: layer.outputShape, data: out };
        break;
      }
      case 'dense': {
        const W = params.get(`${layer.name}.W`)!;
        const b = params.get(`${layer.name}.b`)!;
        const inUnits = a.data.length;
        const units = layer.units;
        const out = new Float64Array(units);
        for (let u = 0; u < units; u++) {
          let s = b[u];
          for (let k = 0; k < inUnits; k++) s += a.data[k] * W[k * units + u];
          out[u] = layer.activation === 'relu' ? Math.max(0, s) : s;
        }
        a = { shape: layer.outputShape, data: out };
        break;
      }
      case 'dropout': {
        const mask = masks?.get(layer.name);
        if (mask) {
          const units = a.data.length;
          a = { shape: a.shape, data: a.data.map((v, k) => v * mask[sample * units + k]) };
        }
        break;
      }
    }
  }
  return a.data;
}

/** Outputs of a batch of `n` samples, `n * outputSize` values. */
export function referenceForward(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  masks?: Masks,
): Float64Array {
  const n = x.length / spec.inputSize;
  const out = new Float64Array(n * spec.outputSize);
  for (let s = 0; s < n; s++) {
    const xs = Float64Array.from(x.subarray(s * spec.inputSize, (s + 1) * spec.inputSize));
    out.set(forwardOne(spec, params, xs, s, masks), s * spec.outputSize);
  }
  return out;
}

/** The masked MSE of engine.ts: mean of squared errors over targets that are not NaN, 0 when none is. */
export function referenceLoss(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  y: Float32Array,
  masks?: Masks,
): number {
  const pred = referenceForward(spec, params, x, masks);
  let sum = 0;
  let present = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i])) continue;
    sum += (pred[i] - y[i]) ** 2;
    present++;
  }
  return present === 0 ? 0 : sum / present;
}

/** Central differences of the float64 loss for every parameter element. */
export function finiteDifferenceGradients(
  spec: ResolvedSpec,
  params: Params,
  x: Float32Array,
  y: Float32Array,
  eps = 1e-6,
): Params {
  const grads: Params = new Map();
  for (const [name, values] of params) {
    const g = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const keep = values[i];
      values[i] = keep + eps;
      const up = referenceLoss(spec, params, x, y);
      values[i] = keep - eps;
      const down = referenceLoss(spec, params, x, y);
      values[i] = keep;
      g[i] = (up - down) / (2 * eps);
    }
    grads.set(name, g);
  }
  return grads;
}

/** Largest |a - b| over the largest |b|: a scale-free error for a whole tensor. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
