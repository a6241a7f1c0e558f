/** `facepoints train`: one training run, recorded in a run folder. */
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import { type AugmentSettings, DEFAULT_AUGMENT, resolveAugment } from '../augment/augment-batch-iterator.js';
import { MIRROR_RULES, type MirrorRule, rmseInPixels } from '../data/scaling.js';
import type { SchemaName } from '../data/schemas.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError, DataFormatError, fileError } from '../errors.js';
import { parseLoss, type LossSpec } from '../nn/loss.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../nn/optimizer.js';
import { PRESET_NAMES } from '../nn/presets.js';
import { RUN_FILES, RunFolder } from '../runs/run-folder.js';
import { resumeRun } from '../runs/resume-run.js';
import {
  type Schedule,
  type TrainConfigInput,
  checkConfigInput,
  resolveTrainConfig,
} from '../runs/train-config.js';
import { type TrainRunResult, checkTrainingData, describeTrainingRows, trainRun } from '../runs/train-run.js';
import type { NeuralNet } from '../train/neural-net.js';
import { OUTPUT_BIAS_RULES, type OutputBias } from '../train/output-bias.js';
import { isSynthetic, loadDataSource } from '../data/data-source.js';
import { type CliContext, type CliIo, println } from './io.js';
import { engineOption, parseFraction, parsePositiveInt, parseSchedule, parseSeed } from './options.js';
import { withEpochProgress } from './progress.js';
import { EXIT } from './report-error.js';

export interface TrainOptions {
  data?: string;
  schema?: SchemaName;
  epochs?: number;
  engine?: EngineChoice;
  seed?: number;
  out?: string;
  resume?: string;
  flip?: boolean;
  mirror?: MirrorRule;
  augment?: Partial<AugmentSettings> | boolean;
  lr?: Schedule;
  momentum?: Schedule;
  optimizer?: OptimizerName;
  beta1?: Schedule;
  beta2?: Schedule;
  epsilon?: Schedule;
  weightDecay?: number;
  loss?: LossSpec;
  outputBias?: OutputBias;
  patience?: number;
  masked?: boolean;
  batchSize?: number;
  valid?: number;
  force?: boolean;
  saveEvery?: number;
}

/** `--weight-decay 0.0001`: a finite number >= 0. */
function parseNonNegative(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError('expected a number >= 0, e.g. 0.0001.');
  }
  return value;
}

/** `--loss wing:0.2:0.04`. */
function parseLossOption(text: string): LossSpec {
  try {
    return parseLoss(text);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

/** `--augment rotation=10,mirror=false,noise=0` -> settings over the defaults. */
export function parseAugment(value: string): Partial<AugmentSettings> {
  const settings: Record<string, number | boolean> = {};
  for (const part of value.split(',').filter((p) => p.trim() !== '')) {
    const [key, raw] = part.split('=').map((t) => t.trim());
    if (!(key in DEFAULT_AUGMENT) || raw === undefined) {
      throw new InvalidArgumentError(
        `expected name=value pairs separated by commas, names: ${Object.keys(DEFAULT_AUGMENT).join(', ')}.`,
      );
    }
    settings[key] = key === 'mirror' ? raw === 'true' : Number(raw);
    if (key === 'mirror' && raw !== 'true' && raw !== 'false') {
      throw new InvalidArgumentError('mirror=true or mirror=false.');
    }
  }
  try {
    resolveAugment(settings, 'augment');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^augment: /, '') + '.');
  }
  return settings;
}

/** Reads a JSON config file; a name of a preset is taken as the preset. */
async function configInputOf(net: string): Promise<TrainConfigInput> {
  if ((PRESET_NAMES as readonly string[]).includes(net)) return { preset: net };
  if (extname(net).toLowerCase() !== '.json') {
    throw new ConfigError(
      `unknown preset '${net}': expected one of ${PRESET_NAMES.join(', ')}, or a .json config file`,
    );
  }
  let text: string;
  try {
    text = await readFile(net, 'utf8');
  } catch (error) {
    throw fileError(net, error, 'config file');
  }
  try {
    return checkConfigInput(JSON.parse(text), net);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new DataFormatError(`not valid JSON (${error.message})`, { file: net }, { cause: error });
    throw error;
  }
}

function absoluteSource(source: string): string {
  return isSynthetic(source) ? source : resolve(source);
}

/** The command line's settings over a config input. */
function withOverrides(input: TrainConfigInput, o: TrainOptions): TrainConfigInput {
  return {
    ...input,
    ...(o.data !== undefined || o.masked !== undefined
      ? {
          data: {
            // A file is recorded by its absolute path, so --resume works from any folder.
            source: o.data !== undefined ? absoluteSource(o.data) : (input.data?.source ?? ''),
            masked: o.masked ?? input.data?.masked ?? false,
          },
        }
      : {}),
    ...(o.schema !== undefined ? { schema: o.schema } : {}),
    ...(o.epochs !== undefined ? { maxEpochs: o.epochs } : {}),
    ...(o.engine !== undefined ? { engine: o.engine } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.flip !== undefined ? { flip: o.flip } : {}),
    ...(o.mirror !== undefined ? { mirror: o.mirror } : {}),
    ...(o.augment !== undefined ? { augment: o.augment } : {}),
    ...(o.lr !== undefined ? { learningRate: o.lr } : {}),
    ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
    ...(o.optimizer !== undefined ? { optimizer: o.optimizer } : {}),
    ...(o.beta1 !== undefined ? { beta1: o.beta1 } : {}),
    ...(o.beta2 !== undefined ? { beta2: o.beta2 } : {}),
    ...(o.epsilon !== undefined ? { epsilon: o.epsilon } : {}),
    ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
    ...(o.loss !== undefined ? { loss: o.loss } : {}),
    ...(o.outputBias !== undefined ? { outputBias: o.outputBias } : {}),
    ...(o.patience !== undefined ? { patience: o.patience } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.valid !== undefined ? { validSize: o.valid } : {}),
  };
}

/** What --resume may change: more epochs, another engine. Anything else would make a different run. */
function checkResumeOptions(o: TrainOptions, net: string | undefined): void {
  const fixed = (
    [
      'data',
      'schema',
      'seed',
      'flip',
      'mirror',
      'augment',
      'lr',
      'momentum',
      'optimizer',
      'beta1',
      'beta2',
      'epsilon',
      'weightDecay',
      'loss',
      'outputBias',
      'patience',
      'masked',
      'batchSize',
      'valid',
      'out',
    ] as const
  ).filter((k) => o[k] !== undefined);
  if (net !== undefined || fixed.length > 0) {
    const names = [
      ...(net !== undefined ? [net] : []),
      ...fixed.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`),
    ];
    throw new ConfigError(
      `--resume goes on with the run's own config.json; it takes only --epochs, --engine and --save-every (remove ${names.join(', ')})`,
    );
  }
}

/** Prints what a finished run left behind and returns the exit code. */
export function reportRun(io: CliIo, folder: RunFolder, result: TrainRunResult): number {
  const { record, net } = result;
  if (record.bestEpoch !== undefined && record.bestValidLoss !== undefined) {
    // Only the MSE converts to an RMSE in pixels; `evaluate` gives pixels for any net.
    const rmse =
      net.loss.kind === 'mse'
        ? ` (RMSE ${rmseInPixels(record.bestValidLoss).toFixed(2)} px)`
        : ` (${net.loss.kind})`;
    println(
      io.stdout,
      `best loss ${record.bestValidLoss.toFixed(6)}${rmse} at epoch ${record.bestEpoch} of ${record.epochs}`,
    );
  }
  println(io.stdout, `run folder: ${folder.dir}`);
  println(
    io.stdout,
    `  ${RUN_FILES.bestModel}, ${RUN_FILES.lastModel}, ${RUN_FILES.historyCsv}, ${RUN_FILES.lossPng}, ${RUN_FILES.record}`,
  );
  if (net.stopReason === 'earlyStopping') {
    println(
      io.stdout,
      `stopped early at epoch ${record.epochs}: no better valid loss within the patience; best weights kept`,
    );
  }
  if (net.stopReason === 'interrupted' || net.stopReason === 'requested') {
    println(
      io.stderr,
      `stopped at epoch ${record.epochs}; go on with: facepoints train --resume ${folder.dir}`,
    );
    return EXIT.interrupted;
  }
  return EXIT.ok;
}

/**
 * Runs a training from parsed options (shared by `train` and tests).
 *
 * @example
 * const code = await runTrain('net1', { data: 'synthetic:500', epochs: 10, out: 'runs/a' }, processIo());
 */
export async function runTrain(
  net: string | undefined,
  o: TrainOptions,
  io: CliIo,
  argv: string[] = [],
): Promise<number> {
  const started = { onTrainingStarted: (n: NeuralNet) => println(io.stdout, `engine: ${n.engineName}`) };
  if (o.resume !== undefined) {
    checkResumeOptions(o, net);
    const dir = o.resume;
    const result = await withEpochProgress(io.stdout, (hooks) =>
      resumeRun(dir, {
        maxEpochs: o.epochs,
        engine: o.engine,
        saveEvery: o.saveEvery,
        log: io.stdout,
        callbacks: [started, ...hooks.callbacks],
        onSplit: hooks.onSplit,
        command: argv,
      }),
    );
    const code = reportRun(io, result.folder, result);
    result.net.dispose();
    return code;
  }
  const name = net ?? 'net1';
  const input = withOverrides(await configInputOf(name), o);
  if (!input.data?.source) {
    throw new ConfigError('no training data: give --data FILE.csv or --data synthetic:COUNT');
  }
  // The data is loaded before the output folder is touched, so bad data leaves nothing behind;
  // a CSV's header names its schema when --schema does not.
  const dataset = await loadDataSource(input.data.source, input.schema);
  const config = resolveTrainConfig({ ...input, schema: dataset.schema.name });
  // Checked before the output folder is made, so unusable data leaves nothing behind.
  checkTrainingData(dataset, config);
  const folder = await RunFolder.create(o.out ?? `runs/${basename(name, '.json')}`, { force: o.force });
  println(
    io.stdout,
    `training ${config.preset ?? 'custom net'} on ${config.data.source}: ` +
      `${describeTrainingRows(dataset, config.columns, config.data.masked)}, up to ${config.maxEpochs} epochs`,
  );
  const result = await withEpochProgress(io.stdout, (hooks) =>
    trainRun({
      folder,
      config,
      dataset,
      log: io.stdout,
      callbacks: [started, ...hooks.callbacks],
      onSplit: hooks.onSplit,
      command: argv,
      saveEvery: o.saveEvery,
    }),
  );
  const code = reportRun(io, folder, result);
  result.net.dispose();
  return code;
}

export function trainCommand(ctx: CliContext): Command {
  return new Command('train')
    .summary(`train a preset (${PRESET_NAMES.join(', ')}) or a JSON config on a CSV or generated faces`)
    .description(
      'Trains a net and records the run in a folder: config.json, run.json (seed, data fingerprint, machine, engine, timings), ' +
        'history.json/.csv, model-best.fpm, model-last.fpm and loss.png/.svg. Prints the training table live. ' +
        'Ctrl-C stops after the current batch and saves; --resume DIR goes on from there. ' +
        `NET is a preset (${PRESET_NAMES.join(', ')}; default net1) or a JSON file of settings (see docs/cli.md).`,
    )
    .argument('[net]', 'preset name or JSON config file')
    .option('--data <source>', 'Kaggle-format CSV file, or synthetic:COUNT[:SEED] for generated faces')
    .addOption(
      new Option('--schema <name>', 'keypoint schema of generated faces (checked against a CSV)').choices([
        'kaggle15',
        'ibug68',
      ]),
    )
    .option('--epochs <n>', "train up to this epoch (default: the preset's)", parsePositiveInt)
    .addOption(engineOption(null))
    .option('--seed <n>', 'seed of init, split, shuffling, flips and dropout (default 42)', parseSeed)
    .option('--out <dir>', 'run folder (default runs/NET); must be empty unless --force')
    .option('--resume <dir>', 'go on training the run in DIR from its last model')
    .option('--flip', 'flip augmentation on')
    .option('--no-flip', 'flip augmentation off')
    .option(
      '--augment [settings]',
      'augmentation: rotation, scale, shift, mirror, gamma, contrast, brightness, blur, noise (defaults, or e.g. rotation=10,noise=0)',
      parseAugment,
    )
    .option('--no-augment', 'augmentation off')
    .addOption(
      new Option(
        '--mirror <rule>',
        "how flips mirror x: exact (the true mirror, 95 - x; default) or tutorial (96 - x, the tutorial's arithmetic)",
      ).choices([...MIRROR_RULES]),
    )
    .option(
      '--lr <start[:stop]>',
      'learning rate, constant or linear from START to STOP over the epochs',
      parseSchedule,
    )
    .option(
      '--momentum <start[:stop]>',
      'Nesterov momentum, constant or linear over the epochs',
      parseSchedule,
    )
    .addOption(
      new Option(
        '--optimizer <name>',
        "update rule (default nesterov; adam's --lr defaults to 0.001)",
      ).choices(OPTIMIZER_NAMES),
    )
    .option(
      '--beta1 <start[:stop]>',
      'Adam beta1 (default 0.9), constant or linear over the epochs',
      parseSchedule,
    )
    .option('--beta2 <start[:stop]>', 'Adam beta2 (default 0.999), constant or linear', parseSchedule)
    .option('--epsilon <start[:stop]>', 'Adam epsilon (default 1e-8), constant or linear', parseSchedule)
    .option(
      '--weight-decay <lambda>',
      'L2 weight decay on every W, either optimizer (default 0)',
      parseNonNegative,
    )
    .option(
      '--loss <name[:params]>',
      'mse (default), l1, smooth-l1[:BETA] or wing[:W[:EPSILON]], in target units (1 px = 1/48)',
      parseLossOption,
    )
    .addOption(
      new Option(
        '--output-bias <rule>',
        "how the output bias starts: zeros (Lasagne's) or meanTargets (the training targets' mean shape)",
      ).choices([...OUTPUT_BIAS_RULES]),
    )
    .option(
      '--patience <n>',
      'early stopping: stop after N epochs without a better valid loss',
      parsePositiveInt,
    )
    .option(
      '--masked',
      'keep rows with missing keypoints and train with the masked loss (default: drop them)',
    )
    .option('--batch-size <n>', 'batch size (default 128)', parsePositiveInt)
    .option('--valid <fraction>', 'fraction held out for validation (default 0.2; 0: none)', parseFraction)
    .option(
      '--save-every <seconds>',
      'save models and curves this often while training (default 60)',
      parsePositiveInt,
    )
    .option('--force', 'replace the run files in a non-empty --out folder')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  facepoints train net1 --data synthetic:2000 --epochs 50 --out runs/net1\n' +
        '  facepoints train net4 --data training.csv --lr 0.03:0.0001 --momentum 0.9:0.999\n' +
        '  facepoints train net2 --data training.csv --optimizer adam --lr 0.001 --weight-decay 0.0001 --loss wing\n' +
        '  facepoints train --resume runs/net1 --epochs 100',
    )
    .action(async (net: string | undefined, options: TrainOptions) => {
      ctx.exitCode = await runTrain(net, options, ctx, ctx.argv);
    });
}
