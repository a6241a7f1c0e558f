/**
 * Elementwise comparison with a relative and an absolute tolerance, as
 * numpy's `allclose` (`notClose` in reference-net.ts): fails naming the worst element.
 */
import assert from 'node:assert/strict';

import { notClose } from './reference-net.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what: string,
): void {
  const off = notClose(actual, expected, tolerance);
  if (off !== undefined) assert.fail(`${what}: ${off}`);
}
