/**
 * The update rules every engine implements (stated in full in
 * `engine/engine.ts`): Lasagne's Nesterov momentum and Lasagne's Adam, each
 * with optional L2 weight decay. This module holds their names, defaults,
 * checks and the layout of their state, so engines, model files and the
 * training loop agree.
 */
import { ConfigError } from '../errors.js';
import { paramKey, type ResolvedSpec } from './spec.js';

export const OPTIMIZER_NAMES = ['nesterov', 'adam'] as const;
/** nolearn's `update`: `nesterov_momentum` or `adam`. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Lasagne's `nesterov_momentum` defaults (nolearn's learning rate). */
export const NESTEROV_DEFAULTS = { learningRate: 0.01, momentum: 0.9 } as const;
/** Lasagne's `adam` defaults. */
export const ADAM_DEFAULTS = { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** The hyper-parameters of one update; which ones a rule reads depends on the rule. */
export interface StepHyperparams {
  learningRate: number;
  /** Nesterov only (default 0.9). */
  momentum?: number;
  /** Adam only (default 0.9): decay of the first-moment estimate. */
  beta1?: number;
  /** Adam only (default 0.999): decay of the second-moment estimate. */
  beta2?: number;
  /** Adam only (default 1e-8): added to sqrt(v). */
  epsilon?: number;
  /** L2 weight decay lambda on every `W` parameter (default 0): the gradient gets lambda * W added. */
  weightDecay?: number;
}

/** Hyper-parameters with the rule's defaults filled in and checked. */
export type CheckedHyperparams =
  | { optimizer: 'nesterov'; learningRate: number; momentum: number; weightDecay: number }
  | {
      optimizer: 'adam';
      learningRate: number;
      beta1: number;
      beta2: number;
      epsilon: number;
      weightDecay: number;
    };

/** Throws ConfigError unless `name` is an optimizer. */
export function checkOptimizerName(name: unknown, where = 'optimizer'): OptimizerName {
  if (!(OPTIMIZER_NAMES as readonly unknown[]).includes(name)) {
    throw new ConfigError(`${where} must be ${OPTIMIZER_NAMES.join(' or ')}, got ${JSON.stringify(name)}`);
  }
  return name as OptimizerName;
}

function check(value: unknown, what: string, ok: (v: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new ConfigError(`${what} must be ${expected}, got ${String(value)}`);
  }
  return value;
}

/**
 * Fills in the defaults of `optimizer` and checks every value it reads.
 *
 * @throws ConfigError naming the hyper-parameter and its valid range.
 * @example
 * checkHyperparams('adam', { learningRate: 0.001 }); // beta1 0.9, beta2 0.999, epsilon 1e-8, weightDecay 0
 */
export function checkHyperparams(
  optimizer: OptimizerName,
  h: StepHyperparams,
  where = 'trainStep',
): CheckedHyperparams {
  const learningRate = check(h.learningRate, `${where}: learningRate`, () => true, 'a finite number');
  const weightDecay = check(h.weightDecay ?? 0, `${where}: weightDecay`, (v) => v >= 0, 'a number >= 0');
  if (optimizer === 'nesterov') {
    const momentum = check(
      h.momentum ?? NESTEROV_DEFAULTS.momentum,
      `${where}: momentum`,
      () => true,
      'a finite number',
    );
    return { optimizer, learningRate, momentum, weightDecay };
  }
  const unit = (v: number) => v >= 0 && v < 1;
  return {
    optimizer,
    learningRate,
    beta1: check(h.beta1 ?? ADAM_DEFAULTS.beta1, `${where}: beta1`, unit, 'in [0, 1)'),
    beta2: check(h.beta2 ?? ADAM_DEFAULTS.beta2, `${where}: beta2`, unit, 'in [0, 1)'),
    epsilon: check(h.epsilon ?? ADAM_DEFAULTS.epsilon, `${where}: epsilon`, (v) => v > 0, 'a number > 0'),
    weightDecay,
  };
}

/**
 * Adam's step size at update t (1-based), in float64 as both engines use it:
 * a_t = learningRate * sqrt(1 - beta2^t) / (1 - beta1^t).
 */
export function adamStepSize(learningRate: number, beta1: number, beta2: number, t: number): number {
  return (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
}

/** Whether weight decay applies to a parameter: the `W` of every layer (Lasagne's regularizable ones), no bias. */
export function isDecayed(paramName: string): boolean {
  return paramName.endsWith('.W');
}

/** Name of the optimizer state tensor that counts Adam's updates (t), shape [1]. */
export const ADAM_STEP_NAME = 'step';

/** Names of Adam's moment estimates of a parameter: `conv1.W/m` and `conv1.W/v`. */
export function adamMomentNames(param: string): { m: string; v: string } {
  return { m: `${param}/m`, v: `${param}/v` };
}

/**
 * The tensors of an optimizer's state for a network, in the order engines
 * return them. Nesterov: one velocity per parameter, named like the parameter
 * (what model files have always held). Adam: per parameter its first and
 * second moment estimates `P/m` and `P/v`, then `step` ([1], the number of
 * updates so far, exact up to 2^24).
 */
export function optimizerStateShapes(
  spec: ResolvedSpec,
  optimizer: OptimizerName,
): { name: string; shape: number[] }[] {
  const params = spec.layers.flatMap((layer) =>
    layer.params.map((p) => ({ name: paramKey(layer.name, p.name), shape: [...p.shape] })),
  );
  if (optimizer === 'nesterov') return params;
  return [
    ...params.flatMap((p) => {
      const { m, v } = adamMomentNames(p.name);
      return [
        { name: m, shape: p.shape },
        { name: v, shape: [...p.shape] },
      ];
    }),
    { name: ADAM_STEP_NAME, shape: [1] },
  ];
}
