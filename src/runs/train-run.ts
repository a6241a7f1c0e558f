/**
 * One training run from a resolved config, recorded in a run folder: the
 * library behind `facepoints train`, `demo` and `specialists`, so everything
 * they do is scriptable. A run stopped by Ctrl-C (or killed) resumes from its
 * folder with `resume: true` and continues the same epochs, schedules and
 * random streams.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

import { AugmentBatchIterator } from '../augment/augment-batch-iterator.js';
import type { ContextCrops, KeypointDataset } from '../data/dataset.js';
import { IMAGE_SIZE, type MirrorRule } from '../data/scaling.js';
import { getSchema } from '../data/schemas.js';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { writeLossCurves } from '../plot/loss-curves.js';
import { BatchIterator } from '../train/batch-iterator.js';
import { AdjustVariable } from '../train/callbacks/adjust-variable.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { PrintLog, type TextSink } from '../train/callbacks/print-log.js';
import type { Callback } from '../train/callbacks/types.js';
import { FlipBatchIterator } from '../train/flip-batch-iterator.js';
import type { EpochRecord } from '../train/history.js';
import { writeModelFile } from '../train/model-file-node.js';
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
import type { TrainConfig } from './train-config.js';

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
 * curves every `saveEvery` seconds and at the end. Runs after every other
 * callback, so it sees early stopping's restored weights at the end.
 */
class RunRecorder implements Callback {
  readonly runsLast = true;
  private lastSave = Date.now();
  private bestWeights?: NamedTensor[];
  private bestEpoch?: number;
  private bestLoss = Infinity;
  private sessionStart = Date.now();

  constructor(
    private readonly folder: RunFolder,
    private readonly record: RunRecord,
    private readonly metadata: ModelMetadata,
    private readonly saveEvery: number,
  ) {
    this.bestEpoch = record.bestEpoch;
    this.bestLoss = record.bestValidLoss ?? Infinity;
  }

  private get session() {
    return this.record.sessions[this.record.sessions.length - 1];
  }

  onTrainingStarted(net: NeuralNet): void {
    this.sessionStart = Date.now();
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
    if (Date.now() - this.lastSave >= this.saveEvery * 1000) await this.saveAll(net, history);
  }

  async onTrainingFinished(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    this.session.finishedAt = new Date().toISOString();
    await this.saveAll(net, history);
    await this.writeRecord(net, statusOf(net));
  }

  /** Marks the run failed (an error escaped fit); what was saved before stays. */
  async failed(net: NeuralNet): Promise<void> {
    this.session.finishedAt = new Date().toISOString();
    await this.writeRecord(net, 'failed');
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

  private async saveAll(net: NeuralNet, history: EpochRecord[]): Promise<void> {
    this.lastSave = Date.now();
    await this.folder.writeHistory(history);
    if (history.length === 0) return;
    const content = await net.toModelContent();
    content.metadata = { ...content.metadata, ...this.metadata, epoch: net.epoch };
    await writeModelFile(this.folder.file('lastModel'), content);
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
    } else if (!(await this.folder.exists('bestModel'))) {
      await writeFileAtomic(this.folder.file('bestModel'), await readFile(this.folder.file('lastModel')));
    }
    await writeLossCurves(
      [{ label: basename(this.folder.dir), history }],
      { pngPath: this.folder.file('lossPng'), svgPath: this.folder.file('lossSvg') },
      { title: `${basename(this.folder.dir)}: loss per epoch` },
    );
  }
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
  const { folder, config } = options;
  const data = selectTrainingData(options.dataset, config.columns, config.data.masked);
  const fingerprint = fingerprintData({ ...data, schema: config.schema, source: config.data.source });
  let record: RunRecord;
  if (options.resume) {
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
  } else {
    record = newRecord(config, fingerprint);
  }
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
  const recorder = new RunRecorder(folder, record, metadata, options.saveEvery ?? 60);
  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  if (options.log) callbacks.push(new PrintLog({ stream: options.log }));
  const { learningRate, momentum } = config;
  if (learningRate.start !== learningRate.stop) {
    callbacks.push(new AdjustVariable('updateLearningRate', learningRate.start, learningRate.stop));
  }
  if (momentum.start !== momentum.stop)
    callbacks.push(new AdjustVariable('updateMomentum', momentum.start, momentum.stop));
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
  };
  let net: NeuralNet;
  if (options.resume) {
    net = await NeuralNet.load(folder.file('lastModel'), common);
  } else {
    net = new NeuralNet({
      ...common,
      layers: config.layers,
      seed: config.seed,
      updateLearningRate: learningRate.start,
      updateMomentum: momentum.start,
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
    await recorder.failed(net).catch(() => undefined);
    throw error;
  }
  return { net, record, data };
}
