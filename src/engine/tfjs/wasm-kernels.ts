/**
 * Training kernels for the tfjs wasm backend (4.22). Out of the box it cannot
 * train a conv net: `Conv2DBackpropFilter` has no wasm kernel at all, and two
 * kernels that backprop needs fall onto slow scalar loops:
 * - `BatchMatMul` uses XNNPACK only when neither operand is transposed, but
 *   the gradients of a dense layer are `x^T dy` and `dy W^T`;
 * - `Conv2DBackpropInput` is a naive direct loop.
 * The replacements below are built from the backend's own fast kernels
 * (XNNPACK convolution and matmul, wasm transpose), so they run wherever the
 * wasm backend runs, the browser included.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;
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
 * Filter gradient by im2col + one matmul:
 * dW[i, j, c, f] = sum over n, oh, ow of x[n, oh + i, ow + j, c] * dy[n, oh, ow, f].
 * The columns are built already transposed ([kh*kw*C, N*OH*OW]) so the
 * matmul needs no transposed operand and takes XNNPACK's fast path.
 */
function conv2dBackpropFilter(backend: Backend, inputs: tf.NamedTensorInfoMap, attrs: Attrs): Info {
  if (!isPlainValidConv(attrs)) {
    throw new Error(
      `Conv2DBackpropFilter (wasm, facepoints): only stride 1, 'valid', NHWC is implemented, got ${JSON.stringify(attrs)}`,
    );
  }
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  const [kh, kw, inC, outC] = attrs.filterShape as number[];
  const [n, , , c] = x.shape;
  const [, oh, ow, f] = dy.shape;
  if (c !== inC || f !== outC)
    throw new Error(`Conv2DBackpropFilter: shapes ${x.shape} / ${dy.shape} do not fit ${attrs.filterShape}`);
  const xT = call('Transpose', backend, { x }, { perm: [3, 0, 1, 2] }); // [C, N, H, W]
  const slices: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      slices.push(call('Slice', backend, { x: xT }, { begin: [0, 0, i, j], size: [c, n, oh, ow] }));
    }
  }
  const cols = call('Concat', backend, slices, { axis: 0 }); // [kh*kw*C, N, OH, OW], rows in (i, j, c) order
  release(backend, xT, ...slices);
  const m = n * oh * ow;
  const cols2 = call('Reshape', backend, { x: cols }, { shape: [kh * kw * c, m] });
  const dy2 = call('Reshape', backend, { x: dy }, { shape: [m, f] });
  const dw2 = originalMatMul(backend, cols2, dy2);
  const dw = call('Reshape', backend, { x: dw2 }, { shape: [kh, kw, c, f] });
  release(backend, cols, cols2, dy2, dw2);
  return dw;
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

/** Materialises transposed operands so XNNPACK's matmul is used instead of the scalar fallback. */
function batchMatMul(backend: Backend, inputs: tf.NamedTensorInfoMap, attrs: Attrs): Info {
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
  const out = originalMatMul(backend, a, b);
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
 * Registers the three replacements on the wasm backend. Idempotent. Call it
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
    batchMatMul(backend as Backend, inputs, attrs ?? {}),
  );
  replace(conv2dBackpropInputOriginal, ({ inputs, backend, attrs }) =>
    conv2dBackpropInput(backend as Backend, inputs, attrs ?? {}),
  );
  if (tf.getKernel('Conv2DBackpropFilter', WASM)) tf.unregisterKernel('Conv2DBackpropFilter', WASM);
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: WASM,
    kernelFunc: ({ inputs, backend, attrs }) => conv2dBackpropFilter(backend as Backend, inputs, attrs ?? {}),
  });
  registered = true;
}
