/**
 * The tutorial's six specialists as one library call, the engine of
 * `facepoints specialists`: one run folder per keypoint group, each net
 * shaped like the general net with its output sized to the group,
 * initialised from the general net's weights where shapes match, flipping
 * with the group's own left/right pairs, listed in OUT/specialists.json so
 * predict, evaluate and submit merge their predictions.
 */
import { join, relative, resolve } from 'node:path';

import { loadDataSource } from '../data/data-source.js';
import type { KeypointDataset } from '../data/dataset.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { SPECIALISTS_FILE, type SpecialistsIndex } from '../predict/predictor.js';
import type { StopReason } from '../train/callbacks/types.js';
import { readModelFile } from '../train/model-file-node.js';
import {
  SPECIALIST_GROUPS,
  SPECIALIST_SCHEMA,
  type SpecialistGroup,
  groupColumns,
  specialistEpochs,
} from '../train/specialist-groups.js';
import { RunFolder, type RunRecord, writeJsonAtomic } from './run-folder.js';
import { resolveTrainConfig } from './train-config.js';
import { type TrainRunOptions, describeTrainingRows, trainRun, trainingRows } from './train-run.js';

export interface TrainSpecialistsOptions extends Pick<
  TrainRunOptions,
  'log' | 'callbacks' | 'command' | 'onSplit' | 'saveEvery'
> {
  /** The trained general model (.fpm) every specialist starts from; it must predict kaggle15. */
  general: string;
  /** Data source: a Kaggle-format CSV or 'synthetic:COUNT[:SEED]' (recorded in each run's config). */
  data: string;
  /** The rows of `data`, when the caller has them loaded already. */
  dataset?: KeypointDataset;
  /** Folder of the specialists; must be empty unless `force`. */
  out: string;
  /** Names of the groups to train (default: all six, in the tutorial's order). */
  groups?: string[];
  /** Epochs of every specialist (default: about 4e6 / its rows, as in the tutorial). */
  epochs?: number;
  /** Early stopping patience (default 200, as in the tutorial). */
  patience?: number;
  /** Keep rows missing some of a group's keypoints and train with the masked loss (default false). */
  masked?: boolean;
  /**
   * Flip augmentation with each group's own left/right pairs (default true,
   * as the tutorial's specialists do, whether or not the general net flipped).
   */
  flip?: boolean;
  /** Seed (default: the general model's). */
  seed?: number;
  engine?: EngineChoice;
  force?: boolean;
}

export interface SpecialistOutcome {
  name: string;
  folder: RunFolder;
  record: RunRecord;
  stopReason?: StopReason;
}

export interface TrainSpecialistsResult {
  /** Absolute path of the specialists folder (a model for predict, evaluate and submit). */
  dir: string;
  index: SpecialistsIndex;
  specialists: SpecialistOutcome[];
  /** The group that was interrupted (Ctrl-C); the ones before it are finished and listed. */
  interrupted?: string;
}

function pickGroups(names: string[] | undefined): SpecialistGroup[] {
  const known = SPECIALIST_GROUPS.map((g) => g.name);
  const unknown = names?.filter((w) => !known.includes(w)) ?? [];
  if (unknown.length) {
    throw new ConfigError(`unknown group ${unknown.join(', ')}: expected ${known.join(', ')}`);
  }
  return SPECIALIST_GROUPS.filter((g) => !names || names.includes(g.name));
}

/**
 * Trains the specialists one after another. Every group's data is checked
 * before anything is written; OUT/specialists.json is rewritten after each
 * finished specialist, so an interrupted call leaves a usable set.
 *
 * @throws ConfigError for an unknown group, a general model of another
 *   schema or without a dense last layer, or a group without usable rows.
 * @example
 * const { dir, specialists } = await trainSpecialists({
 *   general: 'runs/net6/model-best.fpm',
 *   data: 'training.csv',
 *   out: 'runs/specialists',
 *   log: process.stdout,
 * });
 */
export async function trainSpecialists(options: TrainSpecialistsOptions): Promise<TrainSpecialistsResult> {
  const groups = pickGroups(options.groups);
  const general = await readModelFile(options.general);
  if (general.metadata.schema !== SPECIALIST_SCHEMA.name) {
    throw new ConfigError(
      `${options.general}: the specialists are kaggle15 groups, but the model predicts ${String(general.metadata.schema)}`,
    );
  }
  const last = general.spec.layers[general.spec.layers.length - 1];
  if (last.kind !== 'dense')
    throw new ConfigError(`${options.general}: the last layer is not dense; cannot resize it for a group`);
  const dataset = options.dataset ?? (await loadDataSource(options.data, SPECIALIST_SCHEMA.name));
  const masked = options.masked ?? false;
  const preset = typeof general.metadata.preset === 'string' ? general.metadata.preset : undefined;
  // Every group's data is checked before anything is written.
  const rowsOf = new Map(groups.map((g) => [g.name, trainingRows(dataset, groupColumns(g), masked).length]));
  const outer = await RunFolder.create(options.out, { force: options.force });
  const index: SpecialistsIndex = {
    schema: SPECIALIST_SCHEMA.name,
    general: resolve(options.general),
    specialists: [],
  };
  const outcomes: SpecialistOutcome[] = [];
  for (const group of groups) {
    const columns = groupColumns(group);
    const rows = rowsOf.get(group.name)!;
    const layers = structuredClone(general.spec);
    const output = layers.layers[layers.layers.length - 1];
    if (output.kind === 'dense') output.units = columns.length;
    const config = resolveTrainConfig({
      ...(preset ? { preset } : {}),
      layers,
      schema: SPECIALIST_SCHEMA.name,
      columns,
      data: { source: options.data, masked },
      maxEpochs: options.epochs ?? specialistEpochs(rows),
      patience: options.patience ?? 200,
      flip: options.flip ?? true,
      seed: options.seed ?? general.seed,
      engine: options.engine,
      initFrom: resolve(options.general),
    });
    options.log?.write(
      `\nspecialist ${group.name}: ${group.keypoints.join(', ')} on ${rows} rows ` +
        `(${describeTrainingRows(dataset, columns, masked)}), up to ${config.maxEpochs} epochs` +
        `${config.flip ? ', flipping with its own pairs' : ''}\n`,
    );
    const folder = await RunFolder.create(join(outer.dir, group.name), { force: options.force });
    const result = await trainRun({
      folder,
      config,
      dataset,
      log: options.log,
      callbacks: options.callbacks,
      command: options.command,
      onSplit: options.onSplit,
      saveEvery: options.saveEvery,
    });
    const stopReason = result.net.stopReason;
    result.net.dispose();
    outcomes.push({ name: group.name, folder, record: result.record, stopReason });
    index.specialists.push({
      name: group.name,
      model: relative(outer.dir, folder.file('bestModel')),
      columns,
    });
    await writeJsonAtomic(join(outer.dir, SPECIALISTS_FILE), index);
    if (stopReason === 'interrupted') {
      return { dir: outer.dir, index, specialists: outcomes, interrupted: group.name };
    }
  }
  return { dir: outer.dir, index, specialists: outcomes };
}
