/**
 * The tensor that crosses every boundary of the project (engines, model
 * files, weight transfer): a name, a shape and float32 values. It lives in
 * `nn/` so that network descriptions and engines both depend on it, and `nn/`
 * depends on no engine.
 */

/** A named float32 tensor, e.g. `{ name: 'conv1.W', shape: [32, 1, 3, 3], data }`. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Number of values in a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
