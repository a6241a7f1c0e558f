/**
 * NeuralNet: nolearn's one-object training story in TypeScript. Everything a
 * user tunes is a constructor option with nolearn's default; `fit` runs the
 * loop. The loop itself only iterates batches, calls the engine and notifies
 * callbacks: the table, schedules, early stopping and checkpoints are
 * callbacks (see `callbacks/`).
 */
import type { Engine, EngineChoice, NamedTensor, Network } from '../engine/engine.js';
import { selectEngine } from '../engine/select.js';
import { ConfigError } from '../errors.js';
import { initWeights } from '../nn/init.js';
import { MSE, resolveLoss, type LossKind, type LossSpec, type ResolvedLoss } from '../nn/loss.js';
import {
  ADAM_DEFAULTS,
  NESTEROV_DEFAULTS,
  checkHyperparams,
  checkOptimizerName,
  type OptimizerName,
  type StepHyperparams,
} from '../nn/optimizer.js';
import { resolveSpec, type LayerSpec, type NetworkSpec, type ResolvedSpec } from '../nn/spec.js';
import { Rng } from '../random/rng.js';
import { BatchIterator, type BatchContext } from './batch-iterator.js';
import { callbackFromConfig } from './callbacks/index.js';
import { TrainingDivergedError } from './diverged-error.js';
import { PrintLog, type TextSink, defaultTextSink } from './callbacks/print-log.js';
import type { BatchInfo, Callback, CallbackLike, StopReason } from './callbacks/types.js';
import { iteratorFromConfig } from './iterator-from-config.js';
import { makeEpochRecord, type EpochRecord } from './history.js';
import type { ModelContent } from './model-file.js';
import { matchParams, type ParamsReport } from './params-transfer.js';
import { checkOutputBias, meanTargets, withOutputBias, type OutputBias } from './output-bias.js';
import { TrainSplit, type SplitIndices } from './train-split.js';

type HookList = CallbackLike | CallbackLike[];

/** Constructor options: nolearn's arguments in camelCase, with nolearn's defaults. */
export interface NeuralNetOptions {
  /** The layer stack (nolearn's `layers`). */
  layers: NetworkSpec | LayerSpec[];
  /** Engine or engine choice (default 'auto': native when built, else tfjs). */
  engine?: EngineChoice | Engine;
  /**
   * The update rule (nolearn's `update`): 'nesterov' (Lasagne's
   * `nesterov_momentum`, the default) or 'adam' (Lasagne's `adam`). Each
   * `update*` option below is a variable callbacks may change between epochs.
   */
  update?: OptimizerName;
  /** Initial learning rate (default 0.01 for Nesterov, 0.001 for Adam). */
  updateLearningRate?: number;
  /** Initial momentum of the Nesterov update (default 0.9); Nesterov only. */
  updateMomentum?: number;
  /** Adam's beta1 (default 0.9); Adam only. */
  updateBeta1?: number;
  /** Adam's beta2 (default 0.999); Adam only. */
  updateBeta2?: number;
  /** Adam's epsilon (default 1e-8); Adam only. */
  updateEpsilon?: number;
  /** L2 weight decay on every `W` (default 0): the gradient gets weightDecay * W added; a variable too. */
  weightDecay?: number;
  /**
   * The training loss (nolearn's `objective_loss_function`), masking missing
   * targets: 'mse' (default), 'l1', 'smooth-l1', 'wing', or a spec with
   * parameters (`nn/loss.ts`). The history's train and valid losses are this loss.
   */
  loss?: LossSpec | LossKind;
  /** Only regression is supported; default true. */
  regression?: boolean;
  /** Epochs to train for, counted over the whole life of the net, resumed runs included (default 100). */
  maxEpochs?: number;
  /** Default: batches of 128, shuffled per epoch. */
  batchIteratorTrain?: BatchIterator;
  /** Default: batches of 128 in order (validation, predict, score). */
  batchIteratorTest?: BatchIterator;
  /** Default: 20 % held out, seeded; null or evalSize 0 trains without validation. */
  trainSplit?: TrainSplit | null;
  onTrainingStarted?: HookList;
  onBatchFinished?: HookList;
  onEpochFinished?: HookList;
  onTrainingFinished?: HookList;
  /** Callback objects (skorch style); each object's hooks are called wherever it is listed. */
  callbacks?: Callback[];
  /** 0: silent; 1: print the epoch table (adds a PrintLog). */
  verbose?: number;
  /** Seed of every random stream: init, split, shuffle, flips, dropout (default 42). */
  seed?: number;
  /** Stop gracefully on Ctrl-C while fitting (Node only; default true). */
  handleInterrupt?: boolean;
  /** Free-form data saved with the net, e.g. `{ schema: 'kaggle15' }`. */
  metadata?: Record<string, unknown>;
  /**
   * How the output layer's bias starts on a fresh net: 'zeros' (default,
   * Lasagne's) or 'meanTargets', the mean of the training rows' targets (the
   * mean shape), set by the first `fit` before its first epoch. Nets loaded
   * from a file or resumed keep their weights.
   */
  outputBias?: OutputBias;
  /**
   * Where the net's own messages go: the table when verbose (a PrintLog
   * without a stream), early stopping's and loadParamsFrom's reports, the
   * Ctrl-C notice. The library prints nothing else. Default: process.stdout
   * in Node, console.log elsewhere.
   */
  output?: TextSink;
}

/** Options of `NeuralNet.load`: any constructor option overrides what the file says. */
export type LoadOptions = Partial<Omit<NeuralNetOptions, 'layers' | 'seed'>>;

const HOOKS = ['onTrainingStarted', 'onBatchFinished', 'onEpochFinished', 'onTrainingFinished'] as const;
type HookName = (typeof HOOKS)[number];

/** Turns snake_case (nolearn) variable names into ours. */
function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

function countPresent(y: Float32Array): number {
  let present = 0;
  for (let i = 0; i < y.length; i++) if (!Number.isNaN(y[i])) present++;
  return present;
}

/**
 * @example
 * const net = new NeuralNet({
 *   layers: presetSpec('net2', 30),
 *   updateLearningRate: 0.01,
 *   updateMomentum: 0.9,
 *   maxEpochs: 1000,
 *   verbose: 1,
 * });
 * await net.fit(dataset.images, dataset.targets);
 * const predictions = await net.predict(testImages);
 * await net.save('net2.fpm');
 */
export class NeuralNet {
  readonly spec: NetworkSpec;
  readonly resolvedSpec: ResolvedSpec;
  readonly seed: number;
  readonly regression: boolean;
  maxEpochs: number;
  verbose: number;
  batchIteratorTrain: BatchIterator;
  batchIteratorTest: BatchIterator;
  trainSplit: TrainSplit | null;
  metadata: Record<string, unknown>;
  handleInterrupt: boolean;
  /** Where the net's messages go (see NeuralNetOptions.output). */
  output: TextSink;
  /** One record per finished epoch (nolearn's `train_history_`). */
  trainHistory: EpochRecord[] = [];
  /**
   * Hyper-parameters callbacks may change between epochs (nolearn's shared
   * variables): updateLearningRate, weightDecay, and updateMomentum (Nesterov)
   * or updateBeta1, updateBeta2, updateEpsilon (Adam).
   */
  readonly variables: Record<string, number> & { updateLearningRate: number };
  /** The update rule. */
  readonly update: OptimizerName;
  /** The training loss, parameters filled in. */
  readonly loss: ResolvedLoss;
  /** How the output bias starts on fresh weights. */
  readonly outputBias: OutputBias;
  /** Why the last fit ended. */
  stopReason?: StopReason;
  /** What the last `loadParamsFrom` copied and skipped. */
  lastParamsReport?: ParamsReport;

  private readonly engineChoice: EngineChoice | Engine;
  private readonly userCallbacks: Callback[];
  private readonly defaultCallbacks: Callback[];
  private network?: Network;
  private pendingWeights?: NamedTensor[];
  private pendingOptimizerState?: NamedTensor[];
  /** The weights are initWeights' (not loaded, not yet trained): outputBias may still set the bias. */
  private freshWeights = false;
  private stopRequested: StopReason | undefined;
  private fitting = false;

  constructor(options: NeuralNetOptions) {
    if (!options || !options.layers)
      throw new ConfigError('NeuralNet needs layers (a NetworkSpec or a list of layers)');
    this.spec = Array.isArray(options.layers) ? { layers: options.layers } : options.layers;
    this.resolvedSpec = resolveSpec(this.spec);
    this.seed = options.seed ?? 42;
    if (!Number.isFinite(this.seed))
      throw new ConfigError(`seed must be a finite number, got ${options.seed}`);
    this.outputBias = checkOutputBias(options.outputBias ?? 'zeros', 'outputBias');
    this.regression = options.regression ?? true;
    if (!this.regression) throw new ConfigError('only regression nets are supported (regression: true)');
    this.maxEpochs = options.maxEpochs ?? 100;
    if (!Number.isInteger(this.maxEpochs) || this.maxEpochs < 1) {
      throw new ConfigError(`maxEpochs must be a positive integer, got ${options.maxEpochs}`);
    }
    this.verbose = options.verbose ?? 0;
    this.engineChoice = options.engine ?? 'auto';
    this.batchIteratorTrain =
      options.batchIteratorTrain ?? new BatchIterator({ batchSize: 128, shuffle: true });
    this.batchIteratorTest = options.batchIteratorTest ?? new BatchIterator({ batchSize: 128 });
    this.trainSplit =
      options.trainSplit === undefined ? new TrainSplit({ evalSize: 0.2 }) : options.trainSplit;
    this.metadata = { ...(options.metadata ?? {}) };
    this.handleInterrupt = options.handleInterrupt ?? true;
    this.output = options.output ?? defaultTextSink();
    this.update = checkOptimizerName(options.update ?? 'nesterov', 'update');
    this.loss = resolveLoss(options.loss);
    const wrongRule =
      this.update === 'adam'
        ? (['updateMomentum'] as const)
        : (['updateBeta1', 'updateBeta2', 'updateEpsilon'] as const);
    for (const name of wrongRule) {
      if (options[name] !== undefined) {
        throw new ConfigError(
          `${name} applies to ${this.update === 'adam' ? 'nesterov' : 'adam'} only, not ${this.update}`,
        );
      }
    }
    const variables: Record<string, number> & { updateLearningRate: number } =
      this.update === 'adam'
        ? {
            updateLearningRate: options.updateLearningRate ?? ADAM_DEFAULTS.learningRate,
            updateBeta1: options.updateBeta1 ?? ADAM_DEFAULTS.beta1,
            updateBeta2: options.updateBeta2 ?? ADAM_DEFAULTS.beta2,
            updateEpsilon: options.updateEpsilon ?? ADAM_DEFAULTS.epsilon,
            weightDecay: options.weightDecay ?? 0,
          }
        : {
            updateLearningRate: options.updateLearningRate ?? NESTEROV_DEFAULTS.learningRate,
            updateMomentum: options.updateMomentum ?? NESTEROV_DEFAULTS.momentum,
            weightDecay: options.weightDecay ?? 0,
          };
    for (const [name, value] of Object.entries(variables)) {
      if (!Number.isFinite(value)) throw new ConfigError(`${name} must be a finite number, got ${value}`);
    }
    this.variables = variables;
    checkHyperparams(this.update, this.stepHyperparams(), 'NeuralNet');
    this.defaultCallbacks = this.verbose > 0 ? [new PrintLog()] : [];
    this.userCallbacks = NeuralNet.collectCallbacks(options);
  }

  /** Wraps hook-list functions into callback objects; an object listed under several hooks counts once. */
  private static collectCallbacks(options: NeuralNetOptions): Callback[] {
    const callbacks: Callback[] = [];
    const seen = new Set<Callback>();
    for (const hook of HOOKS) {
      const list = options[hook];
      for (const item of list === undefined ? [] : Array.isArray(list) ? list : [list]) {
        if (typeof item === 'function') {
          callbacks.push({ [hook]: item });
        } else if (item && typeof item === 'object') {
          if (!seen.has(item)) callbacks.push(item);
          seen.add(item);
        } else {
          throw new ConfigError(`${hook}: expected functions or callback objects, got ${String(item)}`);
        }
      }
    }
    for (const item of options.callbacks ?? []) {
      if (!item || typeof item !== 'object')
        throw new ConfigError(`callbacks: expected callback objects, got ${String(item)}`);
      if (!seen.has(item)) callbacks.push(item);
      seen.add(item);
    }
    return callbacks;
  }

  /** Every callback of the net, in calling order (defaults first, `runsLast` ones at the end). */
  get callbacks(): Callback[] {
    const all = [...this.defaultCallbacks, ...this.userCallbacks];
    return [...all.filter((c) => !c.runsLast), ...all.filter((c) => c.runsLast)];
  }

  /** Name of the engine compiling this net, once initialised. */
  get engineName(): string | undefined {
    return this.network?.engineName;
  }

  /** Whether `initialize` has run (the network is compiled and has weights). */
  get initialized(): boolean {
    return this.network !== undefined;
  }

  /** Epochs recorded so far (0 for a new net). */
  get epoch(): number {
    return this.trainHistory.length ? this.trainHistory[this.trainHistory.length - 1].epoch : 0;
  }

  /**
   * Compiles the net on its engine and sets its initial weights (seeded
   * Glorot init, or the weights of a loaded file). Called by fit/predict.
   */
  async initialize(): Promise<this> {
    if (this.network) return this;
    const engine = await selectEngine(this.engineChoice);
    const network = await engine.compile(this.spec, { optimizer: this.update });
    try {
      await network.setWeights(this.pendingWeights ?? initWeights(this.resolvedSpec, this.seed));
      if (this.pendingOptimizerState) await network.setOptimizerState(this.pendingOptimizerState);
    } catch (error) {
      network.dispose();
      throw error;
    }
    this.freshWeights = this.pendingWeights === undefined;
    this.pendingWeights = undefined;
    this.pendingOptimizerState = undefined;
    this.network = network;
    return this;
  }

  /** The hyper-parameters of the next update, from the variables. */
  stepHyperparams(): StepHyperparams {
    const v = this.variables;
    return this.update === 'adam'
      ? {
          learningRate: v.updateLearningRate,
          beta1: v.updateBeta1,
          beta2: v.updateBeta2,
          epsilon: v.updateEpsilon,
          weightDecay: v.weightDecay,
        }
      : { learningRate: v.updateLearningRate, momentum: v.updateMomentum, weightDecay: v.weightDecay };
  }

  private get net(): Network {
    if (!this.network) throw new ConfigError('the net is not initialised: call initialize() first');
    return this.network;
  }

  /**
   * Sets a variable by our name or nolearn's (`update_learning_rate`).
   *
   * @throws ConfigError for an unknown variable or a non-finite value.
   */
  setVariable(name: string, value: number): void {
    const key = camelCase(name);
    if (!(key in this.variables)) {
      throw new ConfigError(
        `unknown variable '${name}': the net has ${Object.keys(this.variables).join(', ')}`,
      );
    }
    if (!Number.isFinite(value))
      throw new ConfigError(`variable ${name}: value must be finite, got ${value}`);
    this.variables[key] = value;
  }

  /** Reads a variable by our name or nolearn's. */
  getVariable(name: string): number {
    const key = camelCase(name);
    if (!(key in this.variables)) throw new ConfigError(`unknown variable '${name}'`);
    return this.variables[key];
  }

  /**
   * Asks a running fit to stop after the current batch (what Ctrl-C calls).
   * A stop during an epoch's batches drops that epoch: weights and optimizer
   * state go back to the end of the last recorded epoch, so the net matches its
   * history. A stop from an epoch callback ends after that (recorded) epoch.
   */
  requestStop(reason: StopReason = 'requested'): void {
    this.stopRequested ??= reason;
  }

  private rows(X: Float32Array, what: string): number {
    if (!(X instanceof Float32Array)) throw new ConfigError(`${what} must be a Float32Array`);
    const size = this.resolvedSpec.inputSize;
    if (X.length % size !== 0) {
      throw new ConfigError(
        `${what} has ${X.length} values, not a whole number of ${size}-value samples [${this.resolvedSpec.inputShape}]`,
      );
    }
    return X.length / size;
  }

  private checkTargets(y: Float32Array, count: number): void {
    if (!(y instanceof Float32Array)) throw new ConfigError('y must be a Float32Array');
    const expected = count * this.resolvedSpec.outputSize;
    if (y.length !== expected) {
      throw new ConfigError(
        `y has ${y.length} values; ${count} samples of ${this.resolvedSpec.outputSize} targets need ${expected}`,
      );
    }
  }

  private context(epoch: number): BatchContext {
    return {
      epoch,
      inputShape: this.resolvedSpec.inputShape,
      outputSize: this.resolvedSpec.outputSize,
      seed: this.seed,
      // Every batch is used up (the step awaited) before the next is cut.
      reuseBuffers: true,
    };
  }

  private async notify(hook: HookName, batch?: BatchInfo): Promise<void> {
    for (const callback of this.callbacks) {
      const method = callback[hook] as ((...args: unknown[]) => unknown) | undefined;
      if (method) await method.call(callback, this, this.trainHistory, batch);
    }
  }

  /** The split `fit` uses for these rows (seeded, so the same on every call). */
  splitRows(count: number, groups?: readonly string[]): SplitIndices {
    if (!this.trainSplit)
      return { train: Int32Array.from({ length: count }, (_, i) => i), valid: new Int32Array(0) };
    return this.trainSplit.split(count, { groups, seed: this.seed });
  }

  /**
   * Trains until the history holds `maxEpochs` epochs (so a loaded net
   * resumes where it stopped), or for `epochs` more epochs when given.
   *
   * @param X inputs, `count * inputSize` values (images NCHW)
   * @param y targets, `count * outputSize` values, NaN = missing
   * @param options.groups one label per row (e.g. identity): the split keeps each group on one side
   * @throws TrainingDivergedError at the first NaN or infinite loss; the net is then as it was after the last finished epoch
   * @example
   * await net.fit(images, targets, { groups: dataset.groups });
   */
  async fit(
    X: Float32Array,
    y: Float32Array,
    options: { groups?: readonly string[]; epochs?: number } = {},
  ): Promise<this> {
    if (this.fitting) throw new ConfigError('fit is already running on this net');
    const count = this.rows(X, 'X');
    this.checkTargets(y, count);
    if (options.epochs !== undefined && (!Number.isInteger(options.epochs) || options.epochs < 0)) {
      throw new ConfigError(`epochs must be a non-negative integer, got ${options.epochs}`);
    }
    const split = this.splitRows(count, options.groups);
    if (split.train.length === 0) throw new ConfigError('no rows left to train on');
    await this.initialize();
    if (this.freshWeights && this.outputBias === 'meanTargets') {
      const bias = meanTargets(y, split.train, this.resolvedSpec.outputSize);
      await this.net.setWeights(withOutputBias(this.resolvedSpec, await this.net.getWeights(), bias));
    }
    this.freshWeights = false;
    const target = options.epochs !== undefined ? this.epoch + options.epochs : this.maxEpochs;
    this.stopRequested = undefined;
    this.stopReason = undefined;
    this.fitting = true;
    const removeInterruptHandler = this.handleInterrupt ? installInterruptHandler(this) : () => undefined;
    try {
      await this.notify('onTrainingStarted');
      while (this.epoch < target && !this.stopRequested) {
        const completed = await this.trainEpoch(X, y, split);
        if (!completed) break;
        await this.notify('onEpochFinished');
      }
      this.stopReason = this.stopRequested ?? 'maxEpochs';
      await this.notify('onTrainingFinished');
    } finally {
      this.fitting = false;
      removeInterruptHandler();
    }
    return this;
  }

  /** One epoch; false when a stop request interrupted it (then rolled back and not recorded). */
  private async trainEpoch(X: Float32Array, y: Float32Array, split: SplitIndices): Promise<boolean> {
    const network = this.net;
    const epoch = this.epoch + 1;
    const started = performance.now();
    const snapshot = { weights: await network.getWeights(), optimizer: await network.getOptimizerState() };
    let lossSum = 0;
    let present = 0;
    const batches = this.batchIteratorTrain.batches(X, y, split.train, this.context(epoch));
    for (let next = batches.next(); !next.done;) {
      const batch = next.value;
      const yb = batch.y!;
      const step = network.trainStep(batch.x, yb, {
        ...this.stepHyperparams(),
        dropoutSeed: new Rng(this.seed, 'dropout', epoch, batch.index).nextUint32(),
        loss: this.loss,
      });
      // The next batch (augmentation included) is cut while the engine trains on this one; the
      // iterator fills other arrays for it (BatchContext.reuseBuffers), so this changes no result.
      next = batches.next();
      const loss = await step;
      if (!Number.isFinite(loss)) {
        await this.rollBack(snapshot);
        throw new TrainingDivergedError({
          epoch,
          batch: batch.index + 1,
          loss,
          learningRate: this.variables.updateLearningRate,
        });
      }
      const batchPresent = countPresent(yb);
      lossSum += loss * batchPresent;
      present += batchPresent;
      await this.notify('onBatchFinished', { epoch, batchIndex: batch.index, loss, size: batch.rows.length });
      await yieldToEventLoop();
      if (this.stopRequested) {
        await this.rollBack(snapshot);
        return false;
      }
    }
    const trainLoss = present ? lossSum / present : 0;
    const validLoss = split.valid.length ? await this.lossOver(X, y, split.valid, this.loss) : NaN;
    // The last step may have left non-finite weights that only the validation pass sees.
    const bad = !Number.isFinite(trainLoss)
      ? trainLoss
      : split.valid.length && !Number.isFinite(validLoss)
        ? validLoss
        : undefined;
    if (bad !== undefined) {
      await this.rollBack(snapshot);
      throw new TrainingDivergedError({ epoch, loss: bad, learningRate: this.variables.updateLearningRate });
    }
    const dur = (performance.now() - started) / 1000;
    this.trainHistory.push(makeEpochRecord(this.trainHistory, { trainLoss, validLoss, dur }));
    return true;
  }

  /** Puts back the weights and velocities of the epoch's start. */
  private async rollBack(snapshot: { weights: NamedTensor[]; optimizer: NamedTensor[] }): Promise<void> {
    await this.net.setWeights(snapshot.weights);
    await this.net.setOptimizerState(snapshot.optimizer);
  }

  /** The masked loss over `rows`, exact over the whole set (batches weighted by their present targets). */
  private async lossOver(
    X: Float32Array,
    y: Float32Array,
    rows: Int32Array | undefined,
    loss: ResolvedLoss,
  ): Promise<number> {
    let lossSum = 0;
    let present = 0;
    for (const batch of this.batchIteratorTest.batches(X, y, rows, this.context(0))) {
      const batchPresent = countPresent(batch.y!);
      if (batchPresent === 0) continue;
      lossSum += (await this.net.evaluateLoss(batch.x, batch.y!, loss)) * batchPresent;
      present += batchPresent;
      await yieldToEventLoop();
    }
    return present ? lossSum / present : 0;
  }

  /**
   * Predictions for every row of X (no dropout), batched by batchIteratorTest.
   *
   * @example
   * const scaled = await net.predict(images); // count * outputs, in [-1, 1] for keypoints
   */
  async predict(X: Float32Array): Promise<Float32Array> {
    const count = this.rows(X, 'X');
    await this.initialize();
    const outputs = this.resolvedSpec.outputSize;
    const result = new Float32Array(count * outputs);
    for (const batch of this.batchIteratorTest.batches(X, undefined, undefined, this.context(0))) {
      const predicted = await this.net.predict(batch.x);
      batch.rows.forEach((row, i) =>
        result.set(predicted.subarray(i * outputs, (i + 1) * outputs), row * outputs),
      );
      await yieldToEventLoop();
    }
    return result;
  }

  /**
   * Masked mean squared error of the predictions for X against y (NaN
   * targets ignored), whatever loss the net trains with (nolearn's `score`).
   *
   * @example
   * const mse = await net.score(images, targets);
   * console.log(`RMSE ${rmseInPixels(mse).toFixed(2)} px`);
   */
  async score(X: Float32Array, y: Float32Array): Promise<number> {
    const count = this.rows(X, 'X');
    this.checkTargets(y, count);
    await this.initialize();
    return this.lossOver(X, y, undefined, MSE);
  }

  /** Copies of all parameters (`conv1.W`, `conv1.b`, ...). */
  async getWeights(): Promise<NamedTensor[]> {
    await this.initialize();
    return this.net.getWeights();
  }

  /** Copies of the optimizer state (Nesterov velocities, or Adam's moments and step count). */
  async getOptimizerState(): Promise<NamedTensor[]> {
    await this.initialize();
    return this.net.getOptimizerState();
  }

  /** Replaces all parameters (names and shapes must match the spec); `outputBias` no longer applies. */
  async setWeights(weights: NamedTensor[]): Promise<void> {
    await this.initialize();
    await this.net.setWeights(weights);
    this.freshWeights = false;
  }

  /**
   * Copies the parameters of every layer whose shapes match, from another
   * net or a model file (nolearn's `load_params_from`, used to start
   * specialists from a general net). Layers are matched by name, then by
   * position; the report of what was copied and skipped is kept in
   * `lastParamsReport` (and printed when verbose).
   *
   * @returns names of the layers that were copied
   * @example
   * const copied = await specialist.loadParamsFrom('runs/net6.fpm'); // every layer but 'output'
   */
  async loadParamsFrom(other: NeuralNet | string): Promise<string[]> {
    let sourceSpec: NetworkSpec;
    let sourceWeights: NamedTensor[];
    if (typeof other === 'string') {
      const { readModelFile } = await import('./model-file-node.js');
      const content = await readModelFile(other);
      sourceSpec = content.spec;
      sourceWeights = content.weights;
    } else {
      sourceSpec = other.spec;
      sourceWeights = await other.getWeights();
    }
    const mine = await this.getWeights();
    const report = matchParams(this.resolvedSpec, resolveSpec(sourceSpec), sourceWeights, mine);
    await this.net.setWeights(report.weights);
    this.freshWeights = false;
    this.lastParamsReport = report;
    if (this.verbose > 0) {
      for (const c of report.copied)
        this.output.write(`Loaded parameters to layer '${c.layer}' (from '${c.from}', ${c.shapes}).\n`);
      for (const s of report.skipped)
        this.output.write(`Could not load parameters to layer '${s.layer}': ${s.reason}.\n`);
    }
    return report.copied.map((c) => c.layer);
  }

  /** Everything a model file holds about this net. */
  async toModelContent(): Promise<ModelContent> {
    await this.initialize();
    const callbackState: Record<string, unknown> = {};
    const configs = [];
    let dropped = 0;
    for (const callback of this.userCallbacks) {
      if (callback.stateKey && callback.getState) {
        if (callback.stateKey in callbackState)
          throw new ConfigError(`two callbacks share the stateKey '${callback.stateKey}'`);
        callbackState[callback.stateKey] = callback.getState();
      }
      const config = callback.toConfig?.();
      if (config) configs.push(config);
      else dropped++;
    }
    return {
      spec: this.spec,
      seed: this.seed,
      weights: await this.net.getWeights(),
      optimizer: this.update,
      optimizerState: await this.net.getOptimizerState(),
      variables: { ...this.variables },
      history: this.trainHistory.map((r) => ({ ...r })),
      training: {
        maxEpochs: this.maxEpochs,
        regression: this.regression,
        ...(this.loss.kind === 'mse' ? {} : { loss: this.loss }),
        verbose: this.verbose,
        batchIteratorTrain: this.batchIteratorTrain.toConfig() ?? null,
        batchIteratorTest: this.batchIteratorTest.toConfig() ?? null,
        trainSplit: this.trainSplit ? this.trainSplit.toConfig() : null,
        callbacks: configs,
        droppedCallbacks: dropped,
      },
      callbackState,
      metadata: { ...this.metadata },
      engineName: this.network?.engineName,
    };
  }

  /**
   * Saves the whole net to one file, atomically (Node only).
   *
   * @example
   * await net.save('runs/net4.fpm');
   */
  async save(path: string): Promise<void> {
    const { writeModelFile } = await import('./model-file-node.js');
    await writeModelFile(path, await this.toModelContent());
  }

  /**
   * Rebuilds a net from model content (see {@link NeuralNet.load}); pure, so
   * browsers can call it on `parseModelFile(bytes)`.
   */
  static fromModelContent(content: ModelContent, options: LoadOptions = {}): NeuralNet {
    const t = content.training;
    const hasHooks = HOOKS.some((h) => options[h] !== undefined) || options.callbacks !== undefined;
    const fileUpdate = content.optimizer ?? 'nesterov';
    const update = options.update ?? fileUpdate;
    // The file's variables, where they belong to the update rule and no option replaces them.
    const fileVariables = Object.entries(content.variables).filter(
      ([name]) => update === fileUpdate && options[name as keyof LoadOptions] === undefined,
    );
    const net = new NeuralNet({
      layers: content.spec,
      seed: content.seed,
      maxEpochs: t.maxEpochs,
      regression: t.regression,
      verbose: t.verbose,
      batchIteratorTrain: t.batchIteratorTrain ? iteratorFromConfig(t.batchIteratorTrain) : undefined,
      batchIteratorTest: t.batchIteratorTest ? iteratorFromConfig(t.batchIteratorTest) : undefined,
      trainSplit: t.trainSplit ? new TrainSplit(t.trainSplit) : null,
      callbacks: hasHooks ? undefined : t.callbacks.map(callbackFromConfig),
      metadata: content.metadata,
      ...options,
      update,
      loss: options.loss ?? t.loss,
    });
    for (const [name, value] of fileVariables) {
      if (name in net.variables) net.variables[name] = value;
    }
    net.trainHistory = content.history.map((r) => ({ ...r }));
    for (const callback of net.userCallbacks) {
      const state = callback.stateKey ? content.callbackState[callback.stateKey] : undefined;
      if (state !== undefined && callback.setState) callback.setState(state);
    }
    net.pendingWeights = content.weights;
    // Another update rule than the file's starts with fresh state.
    net.pendingOptimizerState = update === fileUpdate ? (content.optimizerState ?? undefined) : undefined;
    return net;
  }

  /**
   * Loads a saved net to predict or to resume training where it stopped:
   * epoch numbering, variables and schedules, optimizer velocities, early
   * stopping state and seeded streams all continue. Built-in callbacks and
   * iterators come back from the file; function handlers cannot be saved,
   * so pass them again in `options` (any option given replaces the file's).
   *
   * @throws ModelFileError naming the file and what is wrong with it.
   * @example
   * const net = await NeuralNet.load('runs/net4.fpm');
   * await net.fit(images, targets); // continues at the next epoch
   */
  static async load(path: string, options: LoadOptions = {}): Promise<NeuralNet> {
    const { readModelFile } = await import('./model-file-node.js');
    const net = NeuralNet.fromModelContent(await readModelFile(path), options);
    await net.initialize();
    return net;
  }

  /** Frees the engine's memory; the net cannot be used afterwards. */
  dispose(): void {
    this.network?.dispose();
    this.network = undefined;
  }
}

/**
 * Ctrl-C while fitting: the first asks the loop to stop after the current
 * batch, the second exits at once. Node only; a no-op where `process` is absent.
 */
function installInterruptHandler(net: NeuralNet): () => void {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (!proc || typeof proc.on !== 'function') return () => undefined;
  let presses = 0;
  const handler = () => {
    presses++;
    if (presses === 1) {
      net.output.write('\nStopping after the current batch (Ctrl-C again to quit at once)...\n');
      net.requestStop('interrupted');
    } else {
      proc.exit(130);
    }
  };
  proc.on('SIGINT', handler);
  return () => proc.removeListener('SIGINT', handler);
}
