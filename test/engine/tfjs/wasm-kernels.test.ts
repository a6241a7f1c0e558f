import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createTfjsEngine } from '../../../src/engine/tfjs/tfjs-engine.js';
import { randomArray, relativeError } from '../../reference/reference-net.js';

// The replaced wasm kernels against tfjs' own cpu kernels, at sizes where
// they split their reductions into chunks (uneven last chunk included).
async function onBoth(compute: () => tf.Tensor[]): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  const out: Record<string, Float32Array[]> = {};
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    const tensors = compute();
    out[backend] = await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(tensors);
  }
  return { wasm: out.wasm, cpu: out.cpu };
}

test.before(async () => {
  assert.equal((await createTfjsEngine()).name, 'tfjs-wasm');
});

test('conv2d gradients (filter and input) match the cpu backend, several kernel shapes', async () => {
  // 5 images of 38x38 outputs: two images per reduction chunk, so chunks of 2, 2 and 1 images.
  for (const [kh, kw] of [
    [3, 3],
    [2, 3],
    [1, 1],
  ]) {
    const xShape: [number, number, number, number] = [5, 37 + kh, 37 + kw, 3];
    const wShape: [number, number, number, number] = [kh, kw, 3, 4];
    const xData = randomArray(tf.util.sizeFromShape(xShape), kh * 10 + kw);
    const wData = randomArray(tf.util.sizeFromShape(wShape), kh * 10 + kw + 1);
    const { wasm, cpu } = await onBoth(() => {
      const x = tf.tensor4d(xData, xShape);
      const w = tf.tensor4d(wData, wShape);
      const weight = tf.tensor4d(randomArray(5 * 38 * 38 * 4, 99), [5, 38, 38, 4]);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid'), weight));
      const grads = tf.grads(f)([x, w]);
      tf.dispose([x, w, weight]);
      return grads;
    });
    assert.ok(relativeError(wasm[0], cpu[0]) < 1e-5, `input gradient ${kh}x${kw}`);
    assert.ok(relativeError(wasm[1], cpu[1]) < 1e-5, `filter gradient ${kh}x${kw}`);
  }
});

test('matMul with long reductions and transposed operands matches the cpu backend', async () => {
  const m = 6;
  const k = 9000; // chunks of 4096, 4096 and 808
  const n = 5;
  const aData = randomArray(m * k, 1);
  const bData = randomArray(k * n, 2);
  const { wasm, cpu } = await onBoth(() => {
    const a = tf.tensor2d(aData, [m, k]);
    const b = tf.tensor2d(bData, [k, n]);
    const aT = tf.transpose(a);
    const bT = tf.transpose(b);
    const out = [
      tf.matMul(a, b),
      tf.matMul(aT, b, true, false),
      tf.matMul(a, bT, false, true),
      tf.matMul(aT, bT, true, true),
    ];
    out.push(tf.matMul(tf.reshape(a, [1, m, k]), b)); // rank-3 operand with a batch of one
    out.push(tf.matMul(b, tf.transpose(tf.tensor2d(randomArray(7 * n, 3), [7, n])), false, false));
    tf.dispose([a, b, aT, bT]);
    return out;
  });
  wasm.forEach((w, i) => assert.ok(relativeError(w, cpu[i]) < 1e-5, `product ${i}`));
  assert.equal(wasm[4].length, m * n);
});

test('max-pool gradients match the cpu backend, negative windows and overlapping windows included', async () => {
  const xData = randomArray(2 * 11 * 10 * 6, 7); // half the values negative: many all-negative windows
  for (const [size, stride] of [
    [2, 2],
    [3, 3],
    [3, 2],
  ]) {
    const { wasm, cpu } = await onBoth(() => {
      const x = tf.tensor4d(xData, [2, 11, 10, 6]);
      const g = tf.grad((t: tf.Tensor) => {
        const pooled = tf.maxPool(t as tf.Tensor4D, size, stride, 'valid');
        return tf.sum(tf.mul(pooled, tf.range(1, pooled.size + 1).reshape(pooled.shape)));
      })(x);
      x.dispose();
      return [g];
    });
    assert.ok(relativeError(wasm[0], cpu[0]) < 1e-6, `pool ${size} stride ${stride}`);
  }
});
