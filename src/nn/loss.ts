/**
 * The training losses every engine implements, as plain JSON-serialisable
 * specs. All of them mask missing keypoints: a target that is NaN adds
 * nothing to the loss nor to the gradients, and the loss is the mean of an
 * elementwise function f of the error d = prediction - target over the
 * targets that are present (0 when none is):
 *
 *   loss = sum(f(d_i) over present i) / (number of present targets)
 *
 * | kind        | f(d)                                                      | df/dd                          |
 * |-------------|-----------------------------------------------------------|--------------------------------|
 * | `mse`       | d^2                                                       | 2 d                            |
 * | `l1`        | abs(d)                                                    | sign(d) (0 at 0)               |
 * | `smooth-l1` | 0.5 d^2 / beta if abs(d) < beta, else abs(d) - 0.5 beta   | d / beta, else sign(d)         |
 * | `wing`      | w ln(1 + abs(d) / epsilon) if abs(d) < w, else abs(d) - C | sign(d) w / (epsilon + abs(d)), else sign(d) |
 *
 * with C = w - w ln(1 + w / epsilon) for the wing loss of Feng et al.,
 * "Wing Loss for Robust Facial Landmark Localisation with Convolutional
 * Neural Networks", CVPR 2018. Parameters are in target units (targets are
 * pixels scaled by 1/48, see `data/scaling.ts`); the defaults are the
 * paper's w = 10 px and epsilon = 2 px, and 1 px for smooth L1's beta.
 */
import { TARGET_SCALE } from '../data/scaling.js';
import { ConfigError } from '../errors.js';

/** The loss kinds, as JSON configs and the CLI spell them. */
export const LOSS_KINDS = ['mse', 'l1', 'smooth-l1', 'wing'] as const;
export type LossKind = (typeof LOSS_KINDS)[number];

/**
 * A loss: a kind and its parameters (missing parameters take the defaults).
 *
 * @example
 * const loss: LossSpec = { kind: 'wing', w: 10 / 48, epsilon: 2 / 48 };
 */
export type LossSpec =
  | { kind: 'mse' }
  | { kind: 'l1' }
  | { kind: 'smooth-l1'; beta?: number }
  | { kind: 'wing'; w?: number; epsilon?: number };

/** A loss with every parameter filled in. */
export type ResolvedLoss =
  | { kind: 'mse' }
  | { kind: 'l1' }
  | { kind: 'smooth-l1'; beta: number }
  | { kind: 'wing'; w: number; epsilon: number };

/** Smooth L1's beta by default: 1 pixel. */
export const DEFAULT_SMOOTH_L1_BETA = 1 / TARGET_SCALE;
/** The wing loss's w by default: the paper's 10 pixels. */
export const DEFAULT_WING_W = 10 / TARGET_SCALE;
/** The wing loss's epsilon by default: the paper's 2 pixels. */
export const DEFAULT_WING_EPSILON = 2 / TARGET_SCALE;

/** The masked mean squared error, the tutorial's loss and every engine's default. */
export const MSE: ResolvedLoss = { kind: 'mse' };

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${what} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks a loss and fills in its defaults; a bare kind ('wing') is taken as
 * that kind with default parameters, undefined as the masked MSE.
 *
 * @throws ConfigError naming the loss and what was expected.
 * @example
 * resolveLoss('smooth-l1'); // { kind: 'smooth-l1', beta: 0.0208... }
 */
export function resolveLoss(loss: LossSpec | LossKind | undefined): ResolvedLoss {
  if (loss === undefined) return MSE;
  const spec = (typeof loss === 'string' ? { kind: loss } : loss) as Record<string, unknown>;
  if (!spec || typeof spec !== 'object' || !(LOSS_KINDS as readonly unknown[]).includes(spec.kind)) {
    throw new ConfigError(
      `loss must be one of ${LOSS_KINDS.join(', ')} (or { "kind": ... } with its parameters), got ${JSON.stringify(loss)}`,
    );
  }
  const allowed: Record<LossKind, string[]> = {
    mse: [],
    l1: [],
    'smooth-l1': ['beta'],
    wing: ['w', 'epsilon'],
  };
  const kind = spec.kind as LossKind;
  for (const key of Object.keys(spec)) {
    if (key !== 'kind' && !allowed[kind].includes(key)) {
      throw new ConfigError(
        `loss ${kind} has no parameter "${key}"${allowed[kind].length ? ` (it takes ${allowed[kind].join(', ')})` : ''}`,
      );
    }
  }
  switch (kind) {
    case 'mse':
    case 'l1':
      return { kind };
    case 'smooth-l1':
      return { kind, beta: positive(spec.beta ?? DEFAULT_SMOOTH_L1_BETA, 'smooth-l1 beta') };
    case 'wing':
      return {
        kind,
        w: positive(spec.w ?? DEFAULT_WING_W, 'wing w'),
        epsilon: positive(spec.epsilon ?? DEFAULT_WING_EPSILON, 'wing epsilon'),
      };
  }
}

/**
 * Parses the command line's `--loss` value: `mse`, `l1`, `smooth-l1[:BETA]`
 * or `wing[:W[:EPSILON]]`, parameters in target units.
 *
 * @throws ConfigError for an unknown kind or a bad parameter.
 * @example
 * parseLoss('wing:0.2:0.04'); // { kind: 'wing', w: 0.2, epsilon: 0.04 }
 */
export function parseLoss(text: string): ResolvedLoss {
  const [kind, ...params] = text.split(':');
  const numbers = params.map((p) => {
    const value = Number(p);
    if (p.trim() === '' || !Number.isFinite(value))
      throw new ConfigError(`loss parameter "${p}" is not a number`);
    return value;
  });
  const names: Record<string, string[]> = { mse: [], l1: [], 'smooth-l1': ['beta'], wing: ['w', 'epsilon'] };
  if (!(kind in names)) {
    throw new ConfigError(`unknown loss "${kind}": expected mse, l1, smooth-l1[:BETA] or wing[:W[:EPSILON]]`);
  }
  if (numbers.length > names[kind].length) {
    throw new ConfigError(
      `loss ${kind} takes ${names[kind].length ? `at most ${names[kind].join(', ')}` : 'no parameters'}, got "${text}"`,
    );
  }
  const spec: Record<string, unknown> = { kind };
  numbers.forEach((value, i) => (spec[names[kind][i]] = value));
  return resolveLoss(spec as LossSpec);
}

/** A short text for logs, e.g. `wing (w 0.2083, epsilon 0.04167)`. */
export function describeLoss(loss: ResolvedLoss): string {
  switch (loss.kind) {
    case 'mse':
      return 'masked MSE';
    case 'l1':
      return 'masked L1';
    case 'smooth-l1':
      return `masked smooth L1 (beta ${loss.beta.toPrecision(4)})`;
    case 'wing':
      return `masked wing (w ${loss.w.toPrecision(4)}, epsilon ${loss.epsilon.toPrecision(4)})`;
  }
}

/**
 * The loss as the engines' numeric code and two parameters (the native
 * addon's form): mse 0, l1 1, smooth-l1 2 (beta), wing 3 (w, epsilon).
 */
export function lossCode(loss: ResolvedLoss): { code: number; a: number; b: number } {
  switch (loss.kind) {
    case 'mse':
      return { code: 0, a: 0, b: 0 };
    case 'l1':
      return { code: 1, a: 0, b: 0 };
    case 'smooth-l1':
      return { code: 2, a: loss.beta, b: 0 };
    case 'wing':
      return { code: 3, a: loss.w, b: loss.epsilon };
  }
}
