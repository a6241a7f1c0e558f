/**
 * The full, resolved configuration of a training run: everything needed to
 * repeat it, and what `--resume` reads back from config.json. Built from a
 * preset (or a JSON config file) plus the command line's overrides.
 */
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { type AugmentSettings, resolveAugment } from '../augment/augment-batch-iterator.js';
import { MIRROR_RULES, type MirrorRule } from '../data/scaling.js';
import { type SchemaName, getSchema } from '../data/schemas.js';
import { resolveLoss, type LossSpec } from '../nn/loss.js';
import { ADAM_DEFAULTS, OPTIMIZER_NAMES, type OptimizerName } from '../nn/optimizer.js';
import { PRESET_NAMES, type PresetName, presetSpec, presetTraining } from '../nn/presets.js';
import { type NetworkSpec, resolveSpec } from '../nn/spec.js';
import { checkOutputBias, type OutputBias } from '../train/output-bias.js';

/**
 * A value set linearly from start to stop over the epochs (start === stop:
 * constant). `from` is set when a resumed run was given a new maxEpochs: after
 * `from.epoch` the value goes linearly from `from.value` to `stop` over the
 * remaining epochs (see AdjustVariable).
 */
export interface Schedule {
  start: number;
  stop: number;
  from?: { epoch: number; value: number };
}

export interface TrainConfig {
  /** The preset the net came from, when it did. */
  preset?: PresetName;
  /** The network, always spelled out in full. */
  layers: NetworkSpec;
  schema: SchemaName;
  /** Target columns the net predicts (all of the schema's, or a specialist's group). */
  columns: string[];
  /** Where the data came from: a CSV path or 'synthetic:COUNT[:SEED]'; `masked` keeps incomplete rows. */
  data: { source: string; masked: boolean };
  maxEpochs: number;
  /** The update rule (default 'nesterov'; absent in configs written before Adam). */
  optimizer: OptimizerName;
  learningRate: Schedule;
  /** Nesterov's momentum; Nesterov only. */
  momentum?: Schedule;
  /** Adam's beta1, beta2 and epsilon (defaults 0.9, 0.999, 1e-8, constant); Adam only. */
  beta1?: Schedule;
  beta2?: Schedule;
  epsilon?: Schedule;
  /** L2 weight decay on every W (default 0). */
  weightDecay: number;
  /** The training loss, masking missing keypoints (default the masked MSE). */
  loss: LossSpec;
  /**
   * How the output bias starts: 'zeros' (Lasagne's) or 'meanTargets' (the
   * training targets' mean shape). Default 'zeros'; the accuracy preset's is
   * 'meanTargets'. Absent in configs written before it (they started at zeros).
   */
  outputBias: OutputBias;
  /** Flip augmentation (FlipBatchIterator with the schema's left/right pairs). */
  flip: boolean;
  /**
   * How flips (and flip averaging) mirror x: 'exact' (the true mirror, 95 - x) or
   * 'tutorial' (96 - x, the tutorial's arithmetic). Default 'exact'; a config.json
   * written before the rule was recorded flipped the tutorial's way, and resumes so.
   */
  mirror: MirrorRule;
  /**
   * Augmentation (AugmentBatchIterator: rotation, scale, shift, mirror, gamma,
   * contrast, brightness, blur, noise), sampled from the data's wider `Context`
   * crops when it has them; null: none. When set it replaces `flip` (its own
   * `mirror` setting mirrors half the samples, always by the true mirror).
   */
  augment: AugmentSettings | null;
  /** Early stopping patience in epochs; null: none. */
  patience: number | null;
  batchSize: number;
  /** Fraction held out for validation (nolearn's eval size). */
  validSize: number;
  seed: number;
  engine: EngineChoice;
  /** A model whose matching layers initialise this net (loadParamsFrom), e.g. for specialists. */
  initFrom?: string;
}

/** What a JSON config file or the command line may set; anything left out comes from the preset. */
export type TrainConfigInput = Omit<Partial<TrainConfig>, 'preset' | 'augment'> & {
  preset?: string;
  /** true: the default settings; an object: those settings over the defaults; null or false: none. */
  augment?: Partial<AugmentSettings> | boolean | null;
};

const KEYS: readonly (keyof TrainConfig)[] = [
  'preset',
  'layers',
  'schema',
  'columns',
  'data',
  'maxEpochs',
  'optimizer',
  'learningRate',
  'momentum',
  'beta1',
  'beta2',
  'epsilon',
  'weightDecay',
  'loss',
  'outputBias',
  'flip',
  'mirror',
  'augment',
  'patience',
  'batchSize',
  'validSize',
  'seed',
  'engine',
  'initFrom',
];

/** What `engine` may be, in a config file and on the command line. */
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'native', 'tfjs'];

function fail(where: string, key: string, expected: string, value: unknown): never {
  throw new ConfigError(`${where}: "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
}

function checkSchedule(where: string, key: string, value: unknown): Schedule {
  const s = value as Schedule;
  if (
    typeof s !== 'object' ||
    s === null ||
    !Number.isFinite(s.start) ||
    !Number.isFinite(s.stop) ||
    s.start < 0 ||
    s.stop < 0
  ) {
    fail(where, key, '{ "start": number >= 0, "stop": number >= 0 }', value);
  }
  if (s.from !== undefined) {
    const f = s.from;
    if (
      typeof f !== 'object' ||
      f === null ||
      !Number.isInteger(f.epoch) ||
      f.epoch < 0 ||
      !Number.isFinite(f.value) ||
      f.value < 0
    ) {
      fail(where, `${key}.from`, '{ "epoch": whole number >= 0, "value": number >= 0 }', s.from);
    }
    return { start: s.start, stop: s.stop, from: { epoch: f.epoch, value: f.value } };
  }
  return { start: s.start, stop: s.stop };
}

/**
 * Checks a config input's keys and value types (not yet their combination).
 *
 * @throws ConfigError naming `where` (the file), the key and what was expected.
 */
export function checkConfigInput(value: unknown, where: string): TrainConfigInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${where}: expected a JSON object of training settings`);
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`${where}: unknown setting "${key}"; known settings: ${KEYS.join(', ')}`);
    }
  }
  const out: TrainConfigInput = {};
  const int = (key: keyof TrainConfig, min: number) => {
    const v = input[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      fail(where, key, `a whole number >= ${min}`, v);
    return v;
  };
  if (input.preset !== undefined) {
    if (typeof input.preset !== 'string')
      fail(where, 'preset', `one of ${PRESET_NAMES.join(', ')}`, input.preset);
    out.preset = input.preset;
  }
  if (input.layers !== undefined) {
    const layers = Array.isArray(input.layers) ? { layers: input.layers } : input.layers;
    resolveSpec(layers as NetworkSpec); // ShapeError names the layer
    out.layers = layers as NetworkSpec;
  }
  if (input.schema !== undefined) out.schema = getSchema(String(input.schema)).name;
  if (input.columns !== undefined) {
    if (!Array.isArray(input.columns) || !input.columns.every((c) => typeof c === 'string')) {
      fail(where, 'columns', 'a list of column names', input.columns);
    }
    out.columns = input.columns as string[];
  }
  if (input.data !== undefined) {
    const d = input.data as TrainConfig['data'];
    if (
      typeof d !== 'object' ||
      d === null ||
      typeof d.source !== 'string' ||
      typeof d.masked !== 'boolean'
    ) {
      fail(where, 'data', '{ "source": string, "masked": boolean }', input.data);
    }
    out.data = { source: d.source, masked: d.masked };
  }
  out.maxEpochs = int('maxEpochs', 1);
  out.batchSize = int('batchSize', 1);
  out.seed = int('seed', 0);
  if (input.patience !== undefined && input.patience !== null) out.patience = int('patience', 1);
  else if (input.patience === null) out.patience = null;
  if (input.learningRate !== undefined)
    out.learningRate = checkSchedule(where, 'learningRate', input.learningRate);
  if (input.momentum !== undefined) out.momentum = checkSchedule(where, 'momentum', input.momentum);
  if (input.optimizer !== undefined) {
    if (!(OPTIMIZER_NAMES as readonly unknown[]).includes(input.optimizer))
      fail(where, 'optimizer', OPTIMIZER_NAMES.join(' or '), input.optimizer);
    out.optimizer = input.optimizer as OptimizerName;
  }
  for (const key of ['beta1', 'beta2'] as const) {
    if (input[key] === undefined) continue;
    const schedule = checkSchedule(where, key, input[key]);
    if (schedule.start >= 1 || schedule.stop >= 1)
      fail(where, key, 'a schedule of values in [0, 1)', input[key]);
    out[key] = schedule;
  }
  if (input.epsilon !== undefined) {
    const schedule = checkSchedule(where, 'epsilon', input.epsilon);
    if (schedule.start <= 0 || schedule.stop <= 0)
      fail(where, 'epsilon', 'a schedule of values > 0', input.epsilon);
    out.epsilon = schedule;
  }
  if (input.weightDecay !== undefined) {
    const v = input.weightDecay;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, 'weightDecay', 'a number >= 0', v);
    out.weightDecay = v;
  }
  if (input.loss !== undefined) {
    try {
      out.loss = resolveLoss(input.loss as LossSpec);
    } catch (error) {
      throw new ConfigError(`${where}: "loss": ${(error as Error).message}`);
    }
  }
  if (input.outputBias !== undefined)
    out.outputBias = checkOutputBias(input.outputBias, `${where}: "outputBias"`);
  if (input.flip !== undefined) {
    if (typeof input.flip !== 'boolean') fail(where, 'flip', 'true or false', input.flip);
    out.flip = input.flip;
  }
  if (input.mirror !== undefined) {
    if (!(MIRROR_RULES as readonly unknown[]).includes(input.mirror))
      fail(where, 'mirror', MIRROR_RULES.map((r) => `"${r}"`).join(' or '), input.mirror);
    out.mirror = input.mirror as MirrorRule;
  }
  if (input.augment !== undefined) {
    const a = input.augment;
    if (a === null || a === false) out.augment = null;
    else if (a === true) out.augment = resolveAugment({}, `${where}: augment`);
    else out.augment = resolveAugment(a as Partial<AugmentSettings>, `${where}: augment`);
  }
  if (input.validSize !== undefined) {
    const v = input.validSize;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) fail(where, 'validSize', 'a fraction in [0, 1)', v);
    out.validSize = v;
  }
  if (input.engine !== undefined) {
    if (!(ENGINE_CHOICES as readonly unknown[]).includes(input.engine))
      fail(where, 'engine', ENGINE_CHOICES.join(' or '), input.engine);
    out.engine = input.engine as EngineChoice;
  }
  if (input.initFrom !== undefined) {
    if (typeof input.initFrom !== 'string') fail(where, 'initFrom', 'a model file path', input.initFrom);
    out.initFrom = input.initFrom;
  }
  for (const key of Object.keys(out) as (keyof TrainConfigInput)[])
    if (out[key] === undefined) delete out[key];
  return out;
}

function resolveAugmentInput(value: Partial<AugmentSettings> | boolean | null): AugmentSettings | null {
  if (value === null || value === false) return null;
  return resolveAugment(value === true ? {} : value);
}

/**
 * Fills in a config: the preset's net and schedule (net1 when neither a
 * preset nor layers are given), then the input's values over them.
 *
 * @example
 * const config = resolveTrainConfig({ preset: 'net4', maxEpochs: 50, data: { source: 'synthetic:500', masked: false } });
 */
export function resolveTrainConfig(input: TrainConfigInput): TrainConfig {
  const presetName = input.preset ?? (input.layers ? undefined : 'net1');
  const training = presetName ? presetTraining(presetName) : presetTraining('net1');
  const schema = getSchema(input.schema ?? 'kaggle15');
  const columns = input.columns ?? schema.columns;
  for (const column of columns) {
    if (!schema.columns.includes(column)) {
      throw new ConfigError(`column "${column}" is not in the ${schema.name} schema`);
    }
  }
  if (new Set(columns).size !== columns.length || columns.length === 0) {
    throw new ConfigError('columns must name each target column once, and at least one');
  }
  const layers = input.layers ?? presetSpec(presetName!, columns.length);
  const outputs = resolveSpec(layers).outputSize;
  if (outputs !== columns.length) {
    throw new ConfigError(`the net has ${outputs} outputs but ${columns.length} target columns are trained`);
  }
  if (!input.data) throw new ConfigError('no training data given (data.source)');
  const optimizer = input.optimizer ?? training.optimizer ?? 'nesterov';
  const misplaced = (
    optimizer === 'adam' ? (['momentum'] as const) : (['beta1', 'beta2', 'epsilon'] as const)
  ).filter((key) => input[key] !== undefined);
  if (misplaced.length > 0) {
    throw new ConfigError(
      `${misplaced.join(', ')} ${misplaced.length > 1 ? 'apply' : 'applies'} to ${optimizer === 'adam' ? 'nesterov' : 'adam'} only, not ${optimizer}`,
    );
  }
  const constant = (value: number): Schedule => ({ start: value, stop: value });
  const rule: Pick<TrainConfig, 'optimizer' | 'learningRate' | 'momentum' | 'beta1' | 'beta2' | 'epsilon'> =
    optimizer === 'adam'
      ? {
          optimizer,
          // The presets' rates are Nesterov's; Adam starts from Lasagne's default.
          learningRate:
            input.learningRate ??
            (training.optimizer === 'adam' ? training.learningRate : constant(ADAM_DEFAULTS.learningRate)),
          beta1: input.beta1 ?? constant(ADAM_DEFAULTS.beta1),
          beta2: input.beta2 ?? constant(ADAM_DEFAULTS.beta2),
          epsilon: input.epsilon ?? constant(ADAM_DEFAULTS.epsilon),
        }
      : {
          optimizer,
          learningRate: input.learningRate ?? training.learningRate,
          momentum: input.momentum ?? training.momentum,
        };
  if (rule.momentum !== undefined && !(rule.momentum.start < 1 && rule.momentum.stop < 1)) {
    const momentum = rule.momentum;
    throw new ConfigError(
      `momentum ${momentum.start === momentum.stop ? momentum.start : `${momentum.start}:${momentum.stop}`} (--momentum) must be below 1: ` +
        'a Nesterov momentum of 1 or more makes every update larger than the last; the tutorial uses 0.9 to 0.999',
    );
  }
  return {
    ...(presetName ? { preset: presetName as PresetName } : {}),
    layers,
    schema: schema.name,
    columns: [...columns],
    data: input.data,
    maxEpochs: input.maxEpochs ?? training.maxEpochs,
    ...rule,
    weightDecay: input.weightDecay ?? training.weightDecay ?? 0,
    loss: resolveLoss(input.loss ?? training.loss),
    outputBias: input.outputBias ?? training.outputBias ?? 'zeros',
    flip: input.flip ?? training.flip,
    mirror: input.mirror ?? 'exact',
    augment: resolveAugmentInput(input.augment === undefined ? (training.augment ?? null) : input.augment),
    patience: input.patience !== undefined ? input.patience : (training.earlyStoppingPatience ?? null),
    batchSize: input.batchSize ?? training.batchSize ?? 128,
    validSize: input.validSize ?? 0.2,
    seed: input.seed ?? 42,
    engine: input.engine ?? 'auto',
    ...(input.initFrom ? { initFrom: input.initFrom } : {}),
  };
}
