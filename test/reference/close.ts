/**
 * Elementwise comparison with a relative and an absolute tolerance, as
 * numpy's `allclose`: |actual - expected| <= atol + rtol * |expected| for
 * every element. The message names the worst element.
 */
import assert from 'node:assert/strict';

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
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} values, expected ${expected.length}`,
  );
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess =
      Math.abs(actual[i] - expected[i]) - (tolerance.atol + tolerance.rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}[${worst}]: ${actual[worst]} vs ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst] - expected[worst])} > atol ${tolerance.atol} + rtol ${tolerance.rtol} * |expected|)`,
    );
  }
}
