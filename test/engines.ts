/**
 * The engines the training-stack suites run on: both, so a broken native
 * engine (the default wherever it builds) fails the tests that use it. The
 * native engine is skipped with a message when its addon is not built, and
 * that skip becomes a failure under FACEPOINTS_REQUIRE_NATIVE=1 (as CI sets),
 * so a broken build cannot pass as "skipped".
 */
import { nativeEngineAvailable } from '../src/engine/native/native-engine.js';

export type EngineName = 'tfjs' | 'native';

export const NATIVE_MISSING = 'native addon not built (install libdnnl-dev, then npm run build)';

/**
 * `false` when the native addon loads, else the skip message.
 *
 * @throws Error when the addon does not load and FACEPOINTS_REQUIRE_NATIVE=1.
 */
export function nativeSkipReason(): string | false {
  if (nativeEngineAvailable()) return false;
  if (process.env.FACEPOINTS_REQUIRE_NATIVE === '1') {
    throw new Error(`FACEPOINTS_REQUIRE_NATIVE=1, but the ${NATIVE_MISSING}`);
  }
  return NATIVE_MISSING;
}

/** `false` when the native addon loads, else the message node:test prints for skipped tests. */
export const skipNative: string | false = nativeSkipReason();

/** Each engine with its skip option, for `test(title, { skip }, fn)`. */
export const ENGINES: readonly { name: EngineName; skip: string | false }[] = [
  { name: 'tfjs', skip: false },
  { name: 'native', skip: skipNative },
];
