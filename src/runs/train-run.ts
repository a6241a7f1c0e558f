/**
 * One training run from a resolved config, recorded in a run folder: the
 * library behind `facepoints train`, `demo` and `specialists`, so everything
 * they do is scriptable. A run stopped by Ctrl-C (or killed) resumes from its
 * folder with `resume: true` and continues the same epochs, schedules and
 * random streams.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { AugmentBatchIterator } from '../augment/augment-batch-iterator.js';
import type { ContextCrops, KeypointDataset } from '../data/dataset.js';
import { IMAGE_SIZE, type MirrorRule } from '../data/scaling.js';
import { getSchema } from '../data/schemas.js';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { OutputError, isDiskFull } from '../io/output-error.js';
import { writeLossCurves } from '../plot/loss-curves.js';
import { BatchIterator } from '../train/batch-iterator.js';
import { AdjustVariable } from '../train/callbacks/adjust-variable.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { PrintLog, type TextSink } from '../train/callbacks/print-log.js';
import type { Callback } from '../train/callbacks/types.js';
import { TrainingDivergedError } from '../train/diverged-error.js';
import { FlipBatchIterator } from '../train/flip-batch-iterator.js';
import type { EpochRecord } from '../train/history.js';
import type { ModelContent } from '../train/model-file.js';
import { readModelFile, writeModelFile } from '../train/model-file-node.js';
import { NeuralNet } from '../train/neural-net.js';
import { TrainSplit } from '../train/train-split.js';
import type { NamedTensor } from '../engine/engine.js';
import { type DataFingerprint, fingerprintData } from './fingerprint.js';
import { machineInfo } from './machine.js';
import {
  FACEPOINTS_VERSION,
  RUN_FILES,
  type RunFolder,
  type RunRecord,
  type RunStatus,
  summariseTimings,
} from './run-folder.js';
import type { Schedule, TrainConfig } from './train-config.js';

/** What a model file's metadata says about its outputs; predict, evaluate and submit read it. */
export interface ModelMetadata {
  schema: string;
  /** Target column names, in output order. */
  columns: string[];
  preset?: string;
  /** Epoch of the weights (the best model's). */
  epoch?: number;
  /** Whether training mirrored samples (flips or augmentation): predict and evaluate then average over flips by default. */
  trainedWithMirror?: boolean;
  /** The mirror rule training used (and flip averaging uses). */
  mirror?: MirrorRule;
}

export interface TrainRunOptions {
  folder: RunFolder;
  config: TrainConfig;
  /** All rows of the data; the run picks its columns and, unless `config.data.masked`, its complete rows. */
  dataset: KeypointDataset;
  /** Go on from the folder's last model instead of starting fresh. */
  resume?: boolean;
  /** Where the training table goes; leave out for a silent run. */
  log?: TextSink;
  /** More callbacks (a progress bar), called before the table in each hook. */
  callbacks?: Callback[];
  /** The command line, for the run record. */
  command?: string[];
  /** Told the number of training and validation rows once the split is known (e.g. to size a progress bar). */
  onSplit?: (rows: { train: number; valid: number }) => void;
  /** Seconds between saves of the models and curves while training (default 60); they are always saved at the end. */
  saveEvery?: number;
}

export interface TrainRunResult {
  net: NeuralNet;
  /** The config the run trained with (on resume with a new maxEpochs, its schedules' continuation). */
  config: TrainConfig;
  record: RunRecord;
  /** The rows and targets the net trained on. */
  data: {
    images: Float32Array;
    targets: Float32Array;
    count: number;
    groups?: string[];
    context?: ContextCrops;
  };
}

function columnIndex(dataset: KeypointDataset, columns: readonly string[]): number[] {
  return columns.map((c) => {
    const i = dataset.schema.columns.indexOf(c);
    if (i < 0) throw new ConfigError(`the data (${dataset.schema.name}) has no column "${c}"`);
    return i;
  });
}

/**
 * The rows a run trains on: every row when `masked`, else the rows where all
 * of `columns` are present (the tutorial's way; its specialists each keep the
 * rows complete in their group). Checks the data can train at all.
 *
 * @throws ConfigError for data without images, an unknown column, or no row left.
 */
export function trainingRows(
  dataset: KeypointDataset,
  columns: readonly string[],
  masked: boolean,
): number[] {
  const index = columnIndex(dataset, columns);
  if (dataset.count === 0) throw new ConfigError('the data has no rows');
  if (dataset.images.length === 0)
    throw new ConfigError('the data has labels but no images (no Image column)');
  const width = dataset.schema.columns.length;
  const rows: number[] = [];
  for (let r = 0; r < dataset.count; r++) {
    if (masked || index.every((i) => !Number.isNaN(dataset.targets[r * width + i]))) rows.push(r);
  }
  if (rows.length === 0) {
    throw new ConfigError(
      masked
        ? 'the data has no rows'
        : 'no row has all of its targets present: use --masked to train on incomplete rows',
    );
  }
  return rows;
}

/**
 * Checks, before anything is written, that a config can train on the data:
 * the rows {@link trainingRows} picks, and a validation split (`validSize`,
 * the command line's --valid) that leaves rows on both sides.
 *
 * @throws ConfigError saying what to change
 * @example
 * checkTrainingData(dataset, config); // then RunFolder.create(...) and trainRun(...)
 */
export function checkTrainingData(dataset: KeypointDataset, config: TrainConfig): void {
  const rows = trainingRows(dataset, config.columns, config.data.masked);
  const fraction = config.validSize;
  if (fraction === 0) return;
  const count = rows.length;
  const held = Math.round(fraction * count);
  const what = `holding out ${fraction} of the ${count} training row${count === 1 ? '' : 's'} for validation (--valid)`;
  const fix = 'use more data, another fraction, or --valid 0 for no validation';
  if (held < 1) throw new ConfigError(`${what} leaves no row to validate on: ${fix}`);
  if (held >= count) throw new ConfigError(`${what} leaves no row to train on: ${fix}`);
  if (dataset.groups) {
    try {
      new TrainSplit({ evalSize: fraction }).split(count, {
        groups: rows.map((r) => dataset.groups![r]),
        seed: config.seed,
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError(`${what}, keeping each identity (Group) on one side, fails: ${error.message}`);
    }
  }
}

/**
 * One line on the rows a run trains on, for the log: how many the data has,
 * how many are complete in `columns`, and which are used.
 *
 * @example
 * describeTrainingRows(dataset, config.columns, false); // '400 rows, 120 complete: training on 120; --masked keeps all'
 */
export function describeTrainingRows(
  dataset: KeypointDataset,
  columns: readonly string[],
  masked: boolean,
): string {
  const index = columnIndex(dataset, columns);
  const width = dataset.schema.columns.length;
  let complete = 0;
  for (let r = 0; r < dataset.count; r++) {
    if (index.every((i) => !Number.isNaN(dataset.targets[r * width + i]))) complete++;
  }
  const rows = `${dataset.count} row${dataset.count === 1 ? '' : 's'}`;
  if (complete === dataset.count) return rows;
  if (masked) return `${rows}, ${complete} complete: training on all ${dataset.count} with the masked loss`;
  return `${rows}, ${complete} complete: training on ${complete}; --masked keeps all`;
}

/** The images and the `columns` targets of the rows {@link trainingRows} picks. */
export function selectTrainingData(
  dataset: KeypointDataset,
  columns: readonly string[],
  masked: boolean,
): TrainRunResult['data'] {
  const rows = trainingRows(dataset, columns, masked);
  const index = columnIndex(dataset, columns);
  const width = dataset.schema.columns.length;
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const images = new Float32Array(rows.length * pixels);
  const targets = new Float32Array(rows.length * columns.length);
  rows.forEach((r, k) => {
    images.set(dataset.images.subarray(r * pixels, (r + 1) * pixels), k * pixels);
    for (let c = 0; c < index.length; c++)
      targets[k * columns.length + c] = dataset.targets[r * width + index[c]];
  });
  let context: ContextCrops | undefined;
  if (dataset.context) {
    const per = dataset.context.size ** 2;
    context = { size: dataset.context.size, images: new Float32Array(rows.length * per) };
    rows.forEach((r, k) =>
      context!.images.set(dataset.context!.images.subarray(r * per, (r + 1) * per), k * per),
    );
  }
  return {
    images,
    targets,
    count: rows.length,
    ...(dataset.groups ? { groups: rows.map((r) => dataset.groups![r]) } : {}),
    ...(context ? { context } : {}),
  };
}

/** The schema's flip pairs restricted to `columns` and renumbered to their positions there. */
export function flipPairsFor(schemaName: string, columns: readonly string[]): [number, number][] {
  const schema = getSchema(schemaName);
  const position = new Map(columns.map((c, i) => [c, i]));
  const pairs: [number, number][] = [];
  for (const [a, b] of schema.columnFlipPairs) {
    const pa = position.get(schema.columns[a]);
    const pb = position.get(schema.columns[b]);
    if (pa !== undefined && pb !== undefined) pairs.push([pa, pb]);
  }
  return pairs;
}

function statusOf(net: NeuralNet): RunStatus {
  switch (net.stopReason) {
    case 'earlyStopping':
      return 'early-stopped';
    case 'interrupted':
    case 'requested':
      return 'interrupted';
    default:
      return 'finished';
  }
}

/**
 * Writes the run folder as training goes: history every epoch, models and
 * curves after the first epoch, then every `saveEvery` seconds, and at the
 * end. Runs after every other callback, so it sees early stopping's restored
 * weights at the end. A new run staged over an earlier one (`--force`) is
 * committed after its first complete save.
 */
class RunRecorder implements Callback {
  readonly runsLast = true;
  private lastSave = Date.now();
  private bestWeights?: NamedTensor[];
  private bestEpoch?: number;
  private bestLoss = Infinity;
  private sessionStart = Date.now();
  /** Epoch of the last model-last.fpm on disk, if any. */
  private savedEpoch?: number;
  private savesThisSession = 0;

  constructor(
    private readonly folder: RunFolder,
    private readonly record: RunRecord,
    private readonly metadata: ModelMetadata,
    private readonly saveEvery: number,
    private readonly resumed: boolean,
    /** The loss kind the run trains with, named on the curves' axis. */
    private readonly lossKind: string,
  ) {
    this.bestEpoch = record.bestEpoch;
    this.bestLoss = record.bestValidLoss ?? Infinity;
  }

  private get session() {
    return this.record.sessions[this.record.sessions.length - 1];
  }

  onTrainingStarted(net: NeuralNet): void {
    this.sessionStart = Date.now();
    // A resumed run starts from its model-last.fpm, which is on disk.
    if (this.resumed) this.savedEpoch ??= net.epoch;
    this.session.firstEpoch = net.epoch + 1;
    this.session.lastEpoch = net.epoch;
  }

  async onEpochFinished(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    const last = history[history.length - 1];
    const loss = Number.isNaN(last.validLoss) ? last.trainLoss : last.validLoss;
    if (loss < this.bestLoss) {
      this.bestLoss = loss;
      this.bestEpoch = last.epoch;
      this.bestWeights = await net.getWeights();
    }
    this.session.lastEpoch = last.epoch;
    await this.writeRecord(net, 'running');
    if (this.savesThisSession === 0 || Date.now() - this.lastSave >= this.saveEvery * 1000) {
      await this.saveAll(net, history);
      await this.folder.commit();
    }
  }

  async onTrainingFinished(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    this.session.finishedAt = new Date().toISOString();
    await this.saveAll(net, history);
    await this.writeRecord(net, statusOf(net));
    await this.folder.commit();
  }

  /**
   * An error escaped fit. A new run still staged over an earlier one is
   * dropped, so the earlier run stays whole. Otherwise the run is marked
   * failed; after a divergence the net is back at its last finished epoch,
   * which is saved. Returns what the folder keeps, for the error message.
   */
  async failed(net: NeuralNet, error: unknown): Promise<FolderKept> {
    if (this.folder.replacing) {
      await this.folder.discard();
      return { kept: `the earlier run in ${this.folder.dir} is kept as it was`, resumable: false };
    }
    this.session.finishedAt = new Date().toISOString();
    if (error instanceof TrainingDivergedError && net.trainHistory.length > 0) {
      await this.saveAll(net, net.trainHistory).catch(() => undefined);
    }
    await this.writeRecord(net, 'failed').catch(() => undefined);
    return this.savedEpoch !== undefined
      ? { kept: `the run's models of epoch ${this.savedEpoch} are kept`, resumable: true }
      : { kept: 'no model of this run could be saved', resumable: false };
  }

  private async writeRecord(net: NeuralNet, status: RunStatus): Promise<void> {
    this.session.seconds = (Date.now() - this.sessionStart) / 1000;
    this.record.status = status;
    this.record.epochs = net.epoch;
    this.record.engine = net.engineName ?? this.record.engine;
    this.session.engine = this.record.engine;
    if (this.bestEpoch !== undefined) {
      this.record.bestEpoch = this.bestEpoch;
      this.record.bestValidLoss = this.bestLoss;
    }
    this.record.timings = summariseTimings(this.record.sessions, this.record.epochs);
    await this.folder.writeRecord(this.record);
  }

  /**
   * Models first (model-last is what a resume needs), then the history and
   * curves. With no finished epoch (Ctrl-C during the first) only model-last
   * is written, so `--resume` starts the first epoch again.
   */
  private async saveAll(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    this.lastSave = Date.now();
    this.savesThisSession++;
    const content = await net.toModelContent();
    content.metadata = { ...content.metadata, ...this.metadata, epoch: net.epoch };
    await writeModelFile(this.folder.file('lastModel'), content);
    this.savedEpoch = net.epoch;
    if (this.bestWeights && this.bestEpoch !== undefined) {
      // The best model is for predicting: its weights, the history up to it, no optimizer state.
      await writeModelFile(this.folder.file('bestModel'), {
        ...content,
        weights: this.bestWeights,
        optimizerState: null,
        history: content.history.slice(0, this.bestEpoch),
        callbackState: {},
        metadata: { ...content.metadata, epoch: this.bestEpoch },
      });
      this.bestWeights = undefined;
    } else if (history.length > 0 && !(await this.folder.exists('bestModel'))) {
      await writeFileAtomic(this.folder.file('bestModel'), await readFile(this.folder.file('lastModel')));
    }
    await this.folder.writeHistory(history);
    if (history.length === 0) return;
    await writeLossCurves(
      [{ label: basename(this.folder.dir), history }],
      { pngPath: this.folder.file('lossPng'), svgPath: this.folder.file('lossSvg') },
      { title: `${basename(this.folder.dir)}: loss per epoch`, losses: [this.lossKind] },
    );
  }
}

/** What a failed run leaves in its folder, and whether `--resume` can go on from it. */
interface FolderKept {
  kept: string;
  resumable: boolean;
}

/**
 * The error a full disk gives while training: where, how much room, what the
 * folder keeps and how to go on.
 */
function diskFullError(
  error: OutputError,
  folder: RunFolder,
  { kept, resumable }: FolderKept,
  net: NeuralNet,
): OutputError {
  // Named as the run's own file, also when it was being written to the staging folder.
  const path = join(folder.dir, basename(error.path));
  const next = resumable
    ? `free some space, then go on with: facepoints train --resume ${folder.dir}`
    : 'free some space and train again';
  return new OutputError(
    path,
    error.code,
    `${error.detail}; training stopped after epoch ${net.epoch}; ${kept}; ${next}`,
    { needed: error.bytesNeeded, free: error.bytesFree },
  );
}

function isScheduled(schedule: Schedule): boolean {
  return (
    schedule.start !== schedule.stop || (schedule.from !== undefined && schedule.from.value !== schedule.stop)
  );
}

const VARIABLE_OF = {
  learningRate: 'updateLearningRate',
  momentum: 'updateMomentum',
  beta1: 'updateBeta1',
  beta2: 'updateBeta2',
  epsilon: 'updateEpsilon',
} as const;

/**
 * A resumed run given another maxEpochs than its model was trained for: each
 * schedule goes on from the value it had reached to its stop value over the
 * new remaining epochs (no jump back to where a longer linspace would be),
 * and the log says so. Unchanged when maxEpochs is the same.
 */
function continueSchedules(config: TrainConfig, saved: ModelContent, log?: TextSink): TrainConfig {
  const before = saved.training.maxEpochs;
  if (before === config.maxEpochs) return config;
  const epoch = saved.history.length ? saved.history[saved.history.length - 1].epoch : 0;
  if (config.maxEpochs <= epoch) {
    throw new ConfigError(
      `the run has already trained ${epoch} epochs: give more than ${epoch} epochs to go on (it was set to ${before})`,
    );
  }
  const next = { ...config };
  for (const key of ['learningRate', 'momentum', 'beta1', 'beta2', 'epsilon'] as const) {
    const schedule = config[key];
    if (!schedule || !isScheduled(schedule)) continue;
    const value = saved.variables[VARIABLE_OF[key]] ?? schedule.stop;
    next[key] = { start: schedule.start, stop: schedule.stop, from: { epoch, value } };
    log?.write(
      `${key === 'learningRate' ? 'learning rate' : key}: goes on from ${value.toPrecision(6)} after epoch ${epoch} ` +
        `to ${schedule.stop} at epoch ${config.maxEpochs} (the run was set to ${before} epochs)\n`,
    );
  }
  return next;
}

function newRecord(config: TrainConfig, data: DataFingerprint): RunRecord {
  return {
    facepointsVersion: FACEPOINTS_VERSION,
    seed: config.seed,
    engine: String(config.engine),
    data,
    status: 'running',
    epochs: 0,
    models: { best: RUN_FILES.bestModel, last: RUN_FILES.lastModel },
    sessions: [],
    timings: { totalSeconds: 0, meanEpochSeconds: null },
  };
}

/**
 * Trains (or resumes) a run and records it in its folder.
 *
 * @example
 * const folder = await RunFolder.create('runs/net1');
 * const config = resolveTrainConfig({ preset: 'net1', maxEpochs: 20, data: { source: 'synthetic:500', masked: false } });
 * const { net, record } = await trainRun({ folder, config, dataset: generateFaces({ count: 500, seed: 1, schema: 'kaggle15' }), log: process.stdout });
 */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { folder } = options;
  let config = options.config;
  const data = selectTrainingData(options.dataset, config.columns, config.data.masked);
  const fingerprint = fingerprintData({ ...data, schema: config.schema, source: config.data.source });
  let record: RunRecord;
  let saved: ModelContent | undefined;
  if (options.resume) {
    await folder.removeStaleFiles();
    if (!(await folder.exists('lastModel'))) {
      throw new ConfigError(
        `${folder.dir} has no ${RUN_FILES.lastModel} to resume from (did its first epoch finish?)`,
      );
    }
    record = await folder.readRecord();
    if (record.data.sha256 !== fingerprint.sha256 || record.data.count !== fingerprint.count) {
      throw new ConfigError(
        `the data differs from the data this run trained on (${record.data.count} rows, sha256 ${record.data.sha256.slice(0, 12)}; ` +
          `now ${fingerprint.count} rows, ${fingerprint.sha256.slice(0, 12)}): resume needs the same data`,
      );
    }
    saved = await readModelFile(folder.file('lastModel'));
    config = continueSchedules(config, saved, options.log);
  } else {
    record = newRecord(config, fingerprint);
  }
  try {
    return await trainInFolder({ ...options, config }, data, record, saved);
  } catch (error) {
    // A new run staged over an earlier one that failed before its first save: the earlier run stays.
    await folder.discard();
    throw error;
  }
}

async function trainInFolder(
  options: TrainRunOptions,
  data: TrainRunResult['data'],
  record: RunRecord,
  saved: ModelContent | undefined,
): Promise<TrainRunResult> {
  const { folder, config } = options;
  // Written on resume too: a resumed run may train to a new maxEpochs.
  await folder.writeConfig(config);
  record.sessions.push({
    startedAt: new Date().toISOString(),
    firstEpoch: 0,
    lastEpoch: 0,
    seconds: 0,
    engine: String(config.engine),
    machine: machineInfo(),
    command: options.command ?? [],
  });
  const metadata: ModelMetadata = {
    schema: config.schema,
    columns: config.columns,
    ...(config.preset ? { preset: config.preset } : {}),
    trainedWithMirror: config.augment ? config.augment.mirror : config.flip,
    mirror: config.augment ? 'exact' : config.mirror,
  };
  const recorder = new RunRecorder(
    folder,
    record,
    metadata,
    options.saveEvery ?? 60,
    options.resume === true,
    config.loss.kind,
  );
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if (options.log) callbacks.push(new PrintLog({ stream: options.log }));
  // Each hyper-parameter that changes over the epochs is an AdjustVariable on its variable.
  const schedules = {
    updateLearningRate: config.learningRate,
    updateMomentum: config.momentum,
    updateBeta1: config.beta1,
    updateBeta2: config.beta2,
    updateEpsilon: config.epsilon,
  };
  for (const [variable, schedule] of Object.entries(schedules)) {
    if (schedule && isScheduled(schedule)) {
      callbacks.push(new AdjustVariable(variable, schedule.start, schedule.stop, schedule.from));
    }
  }
  if (config.patience !== null)
    callbacks.push(new EarlyStopping({ patience: config.patience, verbose: false }));
  callbacks.push(recorder);
  const flipPairs = flipPairsFor(config.schema, config.columns);
  const batchIteratorTrain = config.augment
    ? new AugmentBatchIterator({
        batchSize: config.batchSize,
        shuffle: true,
        flipPairs,
        augment: config.augment,
        ...(data.context ? { source: data.context } : {}),
      })
    : config.flip
      ? new FlipBatchIterator({
          batchSize: config.batchSize,
          shuffle: true,
          flipPairs,
          imageShape: [1, IMAGE_SIZE, IMAGE_SIZE],
          mirror: config.mirror,
        })
      : new BatchIterator({ batchSize: config.batchSize, shuffle: true });
  const common = {
    engine: config.engine,
    maxEpochs: config.maxEpochs,
    callbacks,
    batchIteratorTrain,
    batchIteratorTest: new BatchIterator({ batchSize: config.batchSize }),
    trainSplit: config.validSize > 0 ? new TrainSplit({ evalSize: config.validSize }) : null,
    verbose: 0,
    metadata: { ...metadata },
    // The net's own messages (early stopping, the Ctrl-C notice) go where the table goes, or nowhere.
    output: options.log ?? { write: () => true },
  };
  let net: NeuralNet;
  if (saved) {
    net = NeuralNet.fromModelContent(saved, common);
    await net.initialize();
  } else {
    net = new NeuralNet({
      ...common,
      layers: config.layers,
      seed: config.seed,
      update: config.optimizer,
      updateLearningRate: config.learningRate.start,
      ...(config.momentum ? { updateMomentum: config.momentum.start } : {}),
      ...(config.beta1 ? { updateBeta1: config.beta1.start } : {}),
      ...(config.beta2 ? { updateBeta2: config.beta2.start } : {}),
      ...(config.epsilon ? { updateEpsilon: config.epsilon.start } : {}),
      weightDecay: config.weightDecay,
      loss: config.loss,
      outputBias: config.outputBias,
    });
    if (config.initFrom) {
      const copied = await net.loadParamsFrom(config.initFrom);
      options.log?.write(`Initialised ${copied.join(', ') || 'no layers'} from ${config.initFrom}\n`);
    }
  }
  if (options.onSplit) {
    const split = net.splitRows(data.count, data.groups);
    options.onSplit({ train: split.train.length, valid: split.valid.length });
  }
  try {
    await net.fit(data.images, data.targets, { groups: data.groups });
  } catch (error) {
    const kept = await recorder
      .failed(net, error)
      .catch(() => ({ kept: 'what was saved before is kept', resumable: true }));
    net.dispose();
    if (error instanceof OutputError && isDiskFull(error)) throw diskFullError(error, folder, kept, net);
    throw error;
  }
  return { net, record, data, config };
}
