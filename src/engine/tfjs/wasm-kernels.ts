/**
 * Training kernels for the tfjs wasm backend (4.22). Out of the box it cannot
 * train a conv net: `Conv2DBackpropFilter` has no wasm kernel at all,
 * `MaxPoolGrad` loses the gradient of windows whose values are all <= 0, and
 * two kernels that backprop needs fall onto slow scalar loops:
 * - `BatchMatMul` uses XNNPACK only when neither operand is transposed, but
 *   the gradients of a dense layer are `x^T dy` and `dy W^T`;
 * - `Conv2DBackpropInput` is a naive direct loop.
 * The replacements below are built from the backend's own fast kernels
 * (XNNPACK convolution and matmul, wasm transpose) plus plain copies into
 * wasm memory, so they run wherever the wasm backend runs, the browser included.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;
type WasmBackend = BackendWasm;
type Attrs = tf.NamedAttrMap;

const WASM = 'wasm';
let registered = false;

/** Runs another wasm kernel directly (we are inside a kernel: no tape, no tidy). */
function call(
  name: string,
  backend: Backend,
  inputs: tf.NamedTensorInfoMap | Info[],
  attrs: Attrs = {},
): Info {
  const kernel = tf.getKernel(name, WASM);
  return kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs }) as Info;
}

function input(inputs: tf.NamedTensorInfoMap, name: string): Info {
  const info = inputs[name];
  if (!info) throw new Error(`kernel input '${name}' is missing`);
  return info;
}

function release(backend: Backend, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function isOne(value: unknown): boolean {
  return value === undefined || value === 1 || (Array.isArray(value) && value.every((v) => v === 1));
}

/** The only convolution the engine builds: NHWC, stride 1, no dilation, 'valid'. */
function isPlainValidConv(attrs: Attrs): boolean {
  return (
    isOne(attrs.strides) &&
    isOne(attrs.dilations) &&
    attrs.pad === 'valid' &&
    (attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC')
  );
}

/**
 * Length of the reduction per XNNPACK matmul call. XNNPACK's GEMM streams the
 * whole reduction for every output tile, so reductions of 10^4-10^5 (a
 * filter gradient sums over N*OH*OW) run from memory at a fraction of its
 * speed; chunks of a few thousand stay in cache (measured ~2x faster).
 */
const REDUCTION_CHUNK = 4096;

/**
 * out[m, n] = sum over k of A[m, k] * B[k, n], in chunks of the reduction.
 * `fill` writes the chunk k0..k0+kc of A ([m, kc]) and of B ([kc, n]) into
 * the given views, which are only valid during the call (wasm memory may
 * grow at every allocation).
 */
function chunkedMatMul(
  backend: WasmBackend,
  m: number,
  k: number,
  n: number,
  fill: (a: Float32Array, b: Float32Array, k0: number, kc: number) => void,
  chunkStarts: number[],
): Info {
  let sum: Info | undefined;
  chunkStarts.forEach((k0, index) => {
    const kc = (chunkStarts[index + 1] ?? k) - k0;
    const a = backend.makeOutput([m, kc], 'float32');
    const b = backend.makeOutput([kc, n], 'float32');
    fill(view(backend, a), view(backend, b), k0, kc);
    const part = originalMatMul(backend, a, b);
    release(backend, a, b);
    if (sum === undefined) {
      sum = part;
    } else {
      const next = call('Add', backend, { a: sum, b: part });
      release(backend, sum, part);
      sum = next;
    }
  });
  return sum!;
}

function view(backend: WasmBackend, info: Info): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Chunk starts over 0..count, each chunk a multiple of `unit` and about `target` long. */
function chunkStarts(count: number, unit: number, target: number): number[] {
  const units = count / unit;
  const perChunk = Math.max(1, Math.floor(target / unit));
  const starts: number[] = [];
  for (let u = 0; u < units; u += perChunk) starts.push(u * unit);
  return starts;
}

/**
 * Filter gradient by im2col + matmul:
 * dW[i, j, c, f] = sum over n, oh, ow of x[n, oh + i, ow + j, c] * dy[n, oh, ow, f],
 * as cols [kh*kw*C, N*OH*OW] times dy [N*OH*OW, F], with the columns written
 * a few images at a time (see REDUCTION_CHUNK) straight into wasm memory.
 */
function conv2dBackpropFilter(backend: WasmBackend, inputs: tf.NamedTensorInfoMap, attrs: Attrs): Info {
  if (!isOne(attrs.dilations) || (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')) {
    throw new Error(
      `Conv2DBackpropFilter (wasm, facepoints): only NHWC without dilation is implemented, got ${JSON.stringify(attrs)}`,
    );
  }
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  const [kh, kw, inC, outC] = attrs.filterShape as number[];
  const [batch, h, w, c] = x.shape;
  const [, oh, ow, f] = dy.shape;
  if (c !== inC || f !== outC) {
    throw new Error(`Conv2DBackpropFilter: shapes ${x.shape} / ${dy.shape} do not fit ${attrs.filterShape}`);
  }
  const [sh, sw] = pair(attrs.strides ?? 1);
  const [pt, pl] = leadingPads(attrs.pad, [h, w], [oh, ow], [kh, kw], [sh, sw]);
  const plain = sh === 1 && sw === 1 && pt === 0 && pl === 0;
  const rows = kh * kw * c;
  const plane = oh * ow;
  const starts = chunkStarts(batch * plane, plane, REDUCTION_CHUNK);
  const dw2 = chunkedMatMul(
    backend,
    rows,
    batch * plane,
    f,
    (cols, dyChunk, k0, kc) => {
      const xv = view(backend, x);
      const n0 = k0 / plane;
      const images = kc / plane;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          for (let ci = 0; ci < c; ci++) {
            let out = ((i * kw + j) * c + ci) * kc;
            for (let n = n0; n < n0 + images; n++) {
              for (let y = 0; y < oh; y++) {
                if (plain) {
                  let from = ((n * h + y + i) * w + j) * c + ci;
                  for (let xx = 0; xx < ow; xx++, from += c) cols[out++] = xv[from];
                  continue;
                }
                const r = y * sh + i - pt;
                for (let xx = 0; xx < ow; xx++) {
                  const q = xx * sw + j - pl;
                  cols[out++] = r < 0 || r >= h || q < 0 || q >= w ? 0 : xv[((n * h + r) * w + q) * c + ci];
                }
              }
            }
          }
        }
      }
      dyChunk.set(view(backend, dy).subarray(k0 * f, (k0 + kc) * f));
    },
    starts,
  );
  const dw = call('Reshape', backend, { x: dw2 }, { shape: [kh, kw, c, f] });
  release(backend, dw2);
  return dw;
}

/** Zeros before the first row and column of a convolution's input, for tfjs' `pad` attribute. */
function leadingPads(
  pad: unknown,
  input: [number, number],
  output: [number, number],
  kernel: [number, number],
  stride: [number, number],
): [number, number] {
  if (pad === 'valid' || pad === undefined) return [0, 0];
  if (typeof pad === 'number') return [pad, pad];
  if (Array.isArray(pad)) return [(pad[1] as number[])[0], (pad[2] as number[])[0]];
  if (pad === 'same') {
    return [0, 1].map((a) => {
      const total = Math.max((output[a] - 1) * stride[a] + kernel[a] - input[a], 0);
      return Math.floor(total / 2);
    }) as [number, number];
  }
  throw new Error(`Conv2DBackpropFilter (wasm, facepoints): unsupported pad ${JSON.stringify(pad)}`);
}

function pair(value: unknown): [number, number] {
  return Array.isArray(value) ? [value[0] as number, value[1] as number] : [value as number, value as number];
}

/**
 * Max-pool gradient: each window's dy goes to the window's first maximum (in
 * row-major order, as tfjs' cpu backend does). Replaces the wasm kernel for
 * correctness as well as speed: in 4.22 that kernel starts its search at
 * FLT_MIN (the smallest positive float, not the lowest), so a window whose
 * values are all <= 0 loses its gradient; after a relu that is harmless, after
 * a linear convolution it is wrong.
 */
function maxPoolGrad(backend: WasmBackend, inputs: tf.NamedTensorInfoMap, attrs: Attrs): Info {
  if (attrs.pad !== 'valid' || !isOne(attrs.dilations)) {
    throw new Error(
      `MaxPoolGrad (wasm, facepoints): only 'valid' pooling is implemented, got ${JSON.stringify(attrs)}`,
    );
  }
  const dy = input(inputs, 'dy');
  const x = input(inputs, 'input');
  const [fh, fw] = pair(attrs.filterSize);
  const [sh, sw] = pair(attrs.strides);
  const [batch, h, w, c] = x.shape;
  const [, oh, ow] = dy.shape;
  const dx = backend.makeOutput(x.shape, 'float32');
  const xv = view(backend, x);
  const dyv = view(backend, dy);
  const dxv = view(backend, dx);
  dxv.fill(0);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let i = 0; i < fh; i++) {
          for (let j = 0; j < fw; j++) {
            const base = ((b * h + oy * sh + i) * w + ox * sw + j) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch];
              if (v > best[ch]) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        for (let ch = 0; ch < c; ch++, o++) if (at[ch] >= 0) dxv[at[ch]] += dyv[o];
      }
    }
  }
  return dx;
}

let batchMatMulOriginal: tf.KernelConfig | undefined;
let conv2dBackpropInputOriginal: tf.KernelConfig | undefined;

function originalMatMul(backend: Backend, a: Info, b: Info): Info {
  return batchMatMulOriginal!.kernelFunc({
    inputs: { a, b },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as Info;
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Materialises transposed operands so XNNPACK's matmul is used instead of the
 * scalar fallback, and splits long reductions (a dense layer on 15488 conv
 * features) into cache-sized chunks.
 */
function batchMatMul(backend: WasmBackend, inputs: tf.NamedTensorInfoMap, attrs: Attrs): Info {
  let a = input(inputs, 'a');
  let b = input(inputs, 'b');
  const temps: Info[] = [];
  if (attrs.transposeA) {
    a = call('Transpose', backend, { x: a }, { perm: swapLastTwo(a.shape.length) });
    temps.push(a);
  }
  if (attrs.transposeB) {
    b = call('Transpose', backend, { x: b }, { perm: swapLastTwo(b.shape.length) });
    temps.push(b);
  }
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const single =
    tf.util.sizeFromShape(a.shape.slice(0, -2)) === 1 && tf.util.sizeFromShape(b.shape.slice(0, -2)) === 1;
  let out: Info;
  if (single && k >= 2 * REDUCTION_CHUNK) {
    const product = chunkedMatMul(
      backend,
      m,
      k,
      n,
      (aChunk, bChunk, k0, kc) => {
        const av = view(backend, a);
        for (let r = 0; r < m; r++) aChunk.set(av.subarray(r * k + k0, r * k + k0 + kc), r * kc);
        bChunk.set(view(backend, b).subarray(k0 * n, (k0 + kc) * n));
      },
      chunkStarts(k, 1, REDUCTION_CHUNK),
    );
    const ones = new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1);
    out = call('Reshape', backend, { x: product }, { shape: [...ones, m, n] });
    release(backend, product);
  } else {
    out = originalMatMul(backend, a, b);
  }
  release(backend, ...temps);
  return out;
}

/**
 * Input gradient as a forward convolution (XNNPACK) of the zero-padded dy
 * with the spatially flipped filter whose in/out channels are swapped:
 * dx[n, h, w, c] = sum over i, j, f of dy[n, h - i, w - j, f] * W[i, j, c, f].
 */
function conv2dBackpropInput(backend: Backend, inputs: tf.NamedTensorInfoMap, attrs: Attrs): Info {
  if (!isPlainValidConv(attrs)) {
    return conv2dBackpropInputOriginal!.kernelFunc({ inputs, backend, attrs }) as Info;
  }
  const dy = input(inputs, 'dy');
  const filter = input(inputs, 'filter');
  const [kh, kw] = filter.shape;
  const flipped = call('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = call('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, F, C]
  const dx = call(
    'Conv2D',
    backend,
    { x: dy, filter: swapped },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [kh - 1, kh - 1],
        [kw - 1, kw - 1],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    },
  );
  release(backend, flipped, swapped);
  return dx;
}

/**
 * Registers the replacements on the wasm backend. Idempotent. Call it
 * before the backend initialises (so the setup of the kernels whose wasm
 * functions we reuse runs as usual); afterwards also works, since their setup
 * has then already run.
 *
 * @example
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  batchMatMulOriginal = tf.getKernel('BatchMatMul', WASM);
  conv2dBackpropInputOriginal = tf.getKernel('Conv2DBackpropInput', WASM);
  if (!batchMatMulOriginal || !conv2dBackpropInputOriginal) {
    throw new Error('the tfjs wasm backend is not loaded: import @tensorflow/tfjs-backend-wasm first');
  }
  const replace = (original: tf.KernelConfig, kernelFunc: tf.KernelFunc): void => {
    tf.unregisterKernel(original.kernelName, WASM);
    tf.registerKernel({
      kernelName: original.kernelName,
      backendName: WASM,
      setupFunc: original.setupFunc,
      kernelFunc,
    });
  };
  replace(batchMatMulOriginal, ({ inputs, backend, attrs }) =>
    batchMatMul(backend as WasmBackend, inputs, attrs ?? {}),
  );
  replace(conv2dBackpropInputOriginal, ({ inputs, backend, attrs }) =>
    conv2dBackpropInput(backend as Backend, inputs, attrs ?? {}),
  );
  const maxPoolGradOriginal = tf.getKernel('MaxPoolGrad', WASM);
  if (maxPoolGradOriginal) {
    replace(maxPoolGradOriginal, ({ inputs, backend, attrs }) =>
      maxPoolGrad(backend as WasmBackend, inputs, attrs ?? {}),
    );
  }
  if (tf.getKernel('Conv2DBackpropFilter', WASM)) tf.unregisterKernel('Conv2DBackpropFilter', WASM);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: WASM,
    kernelFunc: ({ inputs, backend, attrs }) =>
      conv2dBackpropFilter(backend as WasmBackend, inputs, attrs ?? {}),
  });
  registered = true;
}
