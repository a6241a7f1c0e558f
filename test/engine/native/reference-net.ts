/**
 * A deliberately naive float64 forward/backward pass of a resolved spec, in
 * the canonical layouts of nn/spec.ts: the independent yardstick the native
 * engine is checked against (besides the tfjs engine). Dropout is the
 * identity here, as in Network.gradients.
 */
import type { NamedTensor } from '../../../src/engine/engine.js';
import { paramKey, sizeOf, type ResolvedSpec } from '../../../src/nn/spec.js';

export interface ReferenceResult {
  output: Float64Array;
  loss: number;
  grads: Map<string, Float64Array>;
}

interface Activation {
  shape: number[];
  data: Float64Array; // n * sizeOf(shape)
}

/** Forward pass, masked MSE and the gradients of every parameter. */
export function referencePass(
  spec: ResolvedSpec,
  weights: NamedTensor[],
  x: Float32Array,
  y: Float32Array,
): ReferenceResult {
  const w = new Map(weights.map((t) => [t.name, Float64Array.from(t.data)]));
  const n = x.length / spec.inputSize;
  const acts: Activation[] = [{ shape: spec.inputShape, data: Float64Array.from(x) }];
  for (const layer of spec.layers.slice(1)) {
    const input = acts[acts.length - 1];
    let out: Float64Array;
    switch (layer.kind) {
      case 'conv2d': {
        const [c, h, wd] = layer.inputShape;
        const [f, oh, ow] = layer.outputShape;
        const [kh, kw] = layer.kernelSize;
        const W = w.get(paramKey(layer.name, 'W'))!;
        const b = w.get(paramKey(layer.name, 'b'))!;
        out = new Float64Array(n * f * oh * ow);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < f; o++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                let sum = b[o];
                for (let ci = 0; ci < c; ci++)
                  for (let u = 0; u < kh; u++)
                    for (let v = 0; v < kw; v++) {
                      sum +=
                        input.data[((s * c + ci) * h + i + u) * wd + j + v] *
                        W[((o * c + ci) * kh + u) * kw + v];
                    }
                out[((s * f + o) * oh + i) * ow + j] = layer.activation === 'relu' ? Math.max(0, sum) : sum;
              }
        break;
      }
      case 'maxpool2d': {
        const [c, h, wd] = layer.inputShape;
        const [, oh, ow] = layer.outputShape;
        const p = layer.poolSize;
        out = new Float64Array(n * c * oh * ow);
        for (let s = 0; s < n; s++)
          for (let ci = 0; ci < c; ci++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                let best = -Infinity;
                for (let u = 0; u < p; u++)
                  for (let v = 0; v < p; v++) {
                    best = Math.max(best, input.data[((s * c + ci) * h + i * p + u) * wd + j * p + v]);
                  }
                out[((s * c + ci) * oh + i) * ow + j] = best;
              }
        break;
      }
      case 'dense': {
        const inUnits = sizeOf(layer.inputShape);
        const units = layer.units;
        const W = w.get(paramKey(layer.name, 'W'))!;
        const b = w.get(paramKey(layer.name, 'b'))!;
        out = new Float64Array(n * units);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < units; o++) {
            let sum = b[o];
            for (let i = 0; i < inUnits; i++) sum += input.data[s * inUnits + i] * W[i * units + o];
            out[s * units + o] = layer.activation === 'relu' ? Math.max(0, sum) : sum;
          }
        break;
      }
      case 'dropout':
        out = input.data;
        break;
      default:
        throw new Error(`unexpected layer ${layer.kind}`);
    }
    acts.push({ shape: layer.outputShape, data: out });
  }

  const output = acts[acts.length - 1].data;
  let present = 0;
  let sum = 0;
  for (let i = 0; i < output.length; i++) {
    if (Number.isNaN(y[i])) continue;
    present++;
    sum += (output[i] - y[i]) ** 2;
  }
  const loss = present > 0 ? sum / present : 0;
  let grad: Float64Array = new Float64Array(output.length);
  for (let i = 0; i < output.length; i++) {
    grad[i] = Number.isNaN(y[i]) || present === 0 ? 0 : (2 * (output[i] - y[i])) / present;
  }

  const grads = new Map<string, Float64Array>();
  for (let l = spec.layers.length - 1; l >= 1; l--) {
    const layer = spec.layers[l];
    const input = acts[l - 1].data;
    const outAct = acts[l].data;
    const gradIn = new Float64Array(input.length);
    switch (layer.kind) {
      case 'conv2d': {
        const [c, h, wd] = layer.inputShape;
        const [f, oh, ow] = layer.outputShape;
        const [kh, kw] = layer.kernelSize;
        const W = w.get(paramKey(layer.name, 'W'))!;
        const gW = new Float64Array(W.length);
        const gb = new Float64Array(f);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < f; o++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                const at = ((s * f + o) * oh + i) * ow + j;
                const g = layer.activation === 'relu' && outAct[at] <= 0 ? 0 : grad[at];
                if (g === 0) continue;
                gb[o] += g;
                for (let ci = 0; ci < c; ci++)
                  for (let u = 0; u < kh; u++)
                    for (let v = 0; v < kw; v++) {
                      const xi = ((s * c + ci) * h + i + u) * wd + j + v;
                      const wi = ((o * c + ci) * kh + u) * kw + v;
                      gW[wi] += g * input[xi];
                      gradIn[xi] += g * W[wi];
                    }
              }
        grads.set(paramKey(layer.name, 'W'), gW);
        grads.set(paramKey(layer.name, 'b'), gb);
        break;
      }
      case 'maxpool2d': {
        const [c, h, wd] = layer.inputShape;
        const [, oh, ow] = layer.outputShape;
        const p = layer.poolSize;
        for (let s = 0; s < n; s++)
          for (let ci = 0; ci < c; ci++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                let bestAt = -1;
                for (let u = 0; u < p; u++)
                  for (let v = 0; v < p; v++) {
                    const at = ((s * c + ci) * h + i * p + u) * wd + j * p + v;
                    if (bestAt < 0 || input[at] > input[bestAt]) bestAt = at;
                  }
                gradIn[bestAt] += grad[((s * c + ci) * oh + i) * ow + j];
              }
        break;
      }
      case 'dense': {
        const inUnits = sizeOf(layer.inputShape);
        const units = layer.units;
        const W = w.get(paramKey(layer.name, 'W'))!;
        const gW = new Float64Array(W.length);
        const gb = new Float64Array(units);
        for (let s = 0; s < n; s++)
          for (let o = 0; o < units; o++) {
            const at = s * units + o;
            const g = layer.activation === 'relu' && outAct[at] <= 0 ? 0 : grad[at];
            if (g === 0) continue;
            gb[o] += g;
            for (let i = 0; i < inUnits; i++) {
              gW[i * units + o] += g * input[s * inUnits + i];
              gradIn[s * inUnits + i] += g * W[i * units + o];
            }
          }
        grads.set(paramKey(layer.name, 'W'), gW);
        grads.set(paramKey(layer.name, 'b'), gb);
        break;
      }
      case 'dropout':
        gradIn.set(grad);
        break;
    }
    grad = gradIn;
  }
  return { output, loss, grads };
}

/** max |a - b| / max |b|: the error relative to the tensor's scale. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
