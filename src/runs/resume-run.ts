/**
 * Going on with a run from its folder: the library behind
 * `facepoints train --resume DIR`, so a script resumes exactly as the command
 * does. The run's own config.json says everything (net, data, schedules,
 * seed); only the number of epochs and the engine may change.
 */
import { loadDataSource } from '../data/data-source.js';
import type { KeypointDataset } from '../data/dataset.js';
import type { EngineChoice } from '../engine/engine.js';
import { RunFolder } from './run-folder.js';
import { checkConfigInput, resolveTrainConfig } from './train-config.js';
import { type TrainRunOptions, type TrainRunResult, describeTrainingRows, trainRun } from './train-run.js';

export interface ResumeRunOptions extends Pick<
  TrainRunOptions,
  'log' | 'callbacks' | 'command' | 'onSplit' | 'saveEvery'
> {
  /**
   * Train up to this epoch instead of the config's maxEpochs. The schedules
   * then go on from the values they had reached to their stop values over the
   * new remaining epochs; the log says so.
   */
  maxEpochs?: number;
  /** Another engine than the config's (the weights load into any engine). */
  engine?: EngineChoice;
  /** The run's data, when the caller has it loaded already; default: read from the config's data source. */
  dataset?: KeypointDataset;
}

export interface ResumeRunResult extends TrainRunResult {
  folder: RunFolder;
}

/**
 * Resumes the run in `dir` from its last model: epoch numbering, schedules,
 * optimizer velocities, early stopping and the seeded streams all go on, so
 * the result equals one uninterrupted run. The data must be the data the run
 * trained on (checked by its fingerprint).
 *
 * @throws ConfigError when `dir` is not a run folder, has no last model, its
 *   data changed, or `maxEpochs` is not beyond the epochs already trained.
 * @example
 * const { net, record } = await resumeRun('runs/net4', { maxEpochs: 2000, log: process.stdout });
 * console.log(record.status, record.epochs);
 * net.dispose();
 */
export async function resumeRun(dir: string, options: ResumeRunOptions = {}): Promise<ResumeRunResult> {
  const folder = await RunFolder.open(dir);
  const saved = checkConfigInput(await folder.readConfig(), folder.file('config'));
  // A config.json from before the mirror rule was recorded flipped the tutorial's way.
  saved.mirror ??= 'tutorial';
  const config = resolveTrainConfig({
    ...saved,
    ...(options.maxEpochs !== undefined ? { maxEpochs: options.maxEpochs } : {}),
    ...(options.engine !== undefined ? { engine: options.engine } : {}),
  });
  const dataset = options.dataset ?? (await loadDataSource(config.data.source, config.schema));
  options.log?.write(
    `resuming ${folder.dir} up to epoch ${config.maxEpochs} on ${config.data.source}: ` +
      `${describeTrainingRows(dataset, config.columns, config.data.masked)}\n`,
  );
  const result = await trainRun({
    folder,
    config,
    dataset,
    resume: true,
    log: options.log,
    callbacks: options.callbacks,
    command: options.command,
    onSplit: options.onSplit,
    saveEvery: options.saveEvery,
  });
  return { ...result, folder };
}
