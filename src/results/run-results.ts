/**
 * The pipeline behind `npm run results`: real faces imported to the Kaggle-15
 * schema, the tutorial's net1..net6 at a budget of their epochs, the six
 * specialists from the best general net, merged, evaluated on validation
 * identities, and contact sheets of the worst and median validation faces.
 * Everything goes into one results folder (outside the repository: it holds
 * data derived from faces); each net's run folder is the unit of resumption,
 * so a second call goes on where the first stopped.
 */
import { readFile, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

import { loadDataSource } from '../data/data-source.js';
import { type KeypointDataset, subsetDataset } from '../data/dataset.js';
import { writeContactSheet } from '../data/contact-sheet.js';
import { importLandmarks } from '../data/import/import-landmarks.js';
import { readKaggleCsv, writeKaggleCsv } from '../data/kaggle-csv.js';
import { TARGET_SCALE } from '../data/scaling.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { type KeypointMetrics, keypointMetrics } from '../eval/keypoint-metrics.js';
import type { PresetName } from '../nn/presets.js';
import { SPECIALISTS_FILE, type SpecialistsIndex, loadPredictor } from '../predict/predictor.js';
import type { TextSink } from '../train/callbacks/print-log.js';
import {
  SPECIALIST_GROUPS,
  SPECIALIST_SCHEMA,
  groupColumns,
  specialistEpochs,
} from '../train/specialist-groups.js';
import { TrainSplit } from '../train/train-split.js';
import { resumeRun } from '../runs/resume-run.js';
import { RunFolder, type RunRecord, writeJsonAtomic } from '../runs/run-folder.js';
import { trainSpecialists } from '../runs/specialists.js';
import { resolveTrainConfig } from '../runs/train-config.js';
import { trainRun, trainingRows } from '../runs/train-run.js';
import { RESULT_NETS, SPECIALIST_PATIENCE, checkBudget, netEpochs, scaledEpochs } from './plan.js';

/** File names inside a results folder. */
export const RESULTS_FILES = {
  manifest: 'results.json',
  evaluation: 'evaluation.json',
  importedCsv: join('data', 'train.csv'),
  specialists: 'specialists',
  worstSheet: join('sheets', 'worst-16.png'),
  medianSheet: join('sheets', 'median-16.png'),
} as const;

export interface RunResultsOptions {
  /**
   * The faces: a Udacity-style folder (`training/` and
   * `training_frames_keypoints.csv`; its `test/` folder is not used: it holds
   * near-duplicate frames of training identities), a Kaggle-format CSV (with a
   * `Group` column the split keeps identities apart), or `synthetic:COUNT`.
   */
  data: string;
  /** The results folder (run folders, imported data, contact sheets, results.json). */
  out: string;
  /** Fraction of every net's tutorial epochs (1 = the tutorial's). */
  budget: number;
  /** One seed for every net (default 42). */
  seed?: number;
  engine?: EngineChoice;
  /** Epochs of every specialist; default: the tutorial's ~4e6 samples / rows, times the budget. */
  specialistEpochs?: number;
  /** Where the training tables and progress go. */
  log?: TextSink;
  /** The command line, for the run records and the page. */
  command?: string[];
}

/** Validation metrics of a model, stored as evaluation.json next to it. */
export interface EvaluationSummary {
  /** Epochs the run had trained when it was evaluated (a resumed run is evaluated again). */
  epochs: number;
  bestEpoch: number | null;
  faces: number;
  rmsePx: number;
  nme: number | null;
  nmeNormaliser: string;
  perKeypoint: KeypointMetrics['perKeypoint'];
}

/** Contents of results.json: what the page is written from, with the run folders. */
export interface ResultsManifest {
  budget: number;
  seed: number;
  command: string[];
  updatedAt: string;
  /** The machine's 1-minute load average when the command started (timings read in its light). */
  loadAverage: number;
  data: {
    /** What was given (--data). */
    given: string;
    /** The Kaggle-format source the runs trained on. */
    source: string;
    rows: number;
    identities: number | null;
    completeRows: number;
    trainRows: number;
    validRows: number;
    validIdentities: number | null;
  };
  nets: { name: PresetName; dir: string; targetEpochs: number }[];
  /** The general net the specialists started from. */
  bestGeneral: PresetName;
  specialists: { dir: string; targetEpochs: number; groups: { name: string; dir: string }[] };
  /** Which model the contact sheets show, and where they are (absolute paths). */
  sheets: { model: string; worst: string; median: string };
}

export interface RunResultsResult {
  manifest: ResultsManifest;
  /** What each unit did in this call. */
  actions: { name: string; action: 'trained' | 'resumed' | 'kept' }[];
  /** True when Ctrl-C stopped a run: call again to go on. */
  interrupted: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads or imports the faces; returns the dataset and the CSV source runs record. */
async function prepareData(
  given: string,
  out: string,
  log?: TextSink,
): Promise<{ dataset: KeypointDataset; source: string }> {
  if (given.startsWith('synthetic'))
    return { dataset: await loadDataSource(given, 'kaggle15'), source: given };
  let folder: boolean;
  try {
    folder = (await stat(given)).isDirectory();
  } catch (error) {
    throw new ConfigError(
      `--data ${given} does not exist: expected the Udacity folder (training/ + training_frames_keypoints.csv), ` +
        'a Kaggle-format CSV or synthetic:COUNT',
      { cause: error },
    );
  }
  if (!folder) return { dataset: await readKaggleCsv(given), source: resolve(given) };
  const csv = join(out, RESULTS_FILES.importedCsv);
  if (await exists(csv)) {
    log?.write(`data: ${csv} (imported before)\n`);
    return { dataset: await readKaggleCsv(csv), source: csv };
  }
  const landmarks = join(given, 'training_frames_keypoints.csv');
  const images = join(given, 'training');
  if (!(await exists(landmarks)) || !(await exists(images))) {
    throw new ConfigError(
      `${given}: expected training/ and training_frames_keypoints.csv (the Udacity layout)`,
    );
  }
  const started = Date.now();
  const dataset = await importLandmarks({ csvPath: landmarks, imagesDir: images, schema: 'kaggle15' });
  await writeKaggleCsv(csv, dataset);
  log?.write(
    `data: imported ${dataset.count} faces of ${given} to ${csv} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return { dataset, source: csv };
}

/**
 * The validation rows every general net uses: the rows trainRun trains on
 * (complete in every column), split as NeuralNet splits them (by identity
 * when the data has groups, seeded with the run's seed).
 */
export function validationRows(
  dataset: KeypointDataset,
  options: { seed: number; validSize?: number; columns?: readonly string[] },
): { train: number[]; valid: number[] } {
  const rows = trainingRows(dataset, options.columns ?? dataset.schema.columns, false);
  const groups = dataset.groups ? rows.map((r) => dataset.groups![r]) : undefined;
  const split = new TrainSplit({ evalSize: options.validSize ?? 0.2 }).split(rows.length, {
    groups,
    seed: options.seed,
  });
  return { train: Array.from(split.train, (k) => rows[k]), valid: Array.from(split.valid, (k) => rows[k]) };
}

interface Evaluated {
  summary: EvaluationSummary;
  /** Predictions in the schema's column order (NaN where the model predicts nothing). */
  predictions: Float32Array;
  /** Mean point distance per face, in pixels. */
  faceErrors: Float64Array;
}

/** Predicts the validation faces with a model (a .fpm or a specialists folder) and scores them. */
async function evaluateModel(
  model: string,
  valid: KeypointDataset,
  record: { epochs: number; bestEpoch: number | null },
  engine: EngineChoice | undefined,
): Promise<Evaluated> {
  const predictor = await loadPredictor(model, { engine });
  try {
    const raw = await predictor.predict(valid.images);
    const metrics = keypointMetrics({
      predictions: raw,
      labels: valid.targets,
      count: valid.count,
      columns: predictor.columns,
      schema: valid.schema,
    });
    const width = valid.schema.columns.length;
    const predictions = new Float32Array(valid.count * width).fill(Number.NaN);
    const position = predictor.columns.map((c) => valid.schema.columns.indexOf(c));
    for (let r = 0; r < valid.count; r++)
      position.forEach((p, c) => (predictions[r * width + p] = raw[r * predictor.columns.length + c]));
    const faceErrors = new Float64Array(valid.count);
    for (let r = 0; r < valid.count; r++) {
      let sum = 0;
      let n = 0;
      for (let c = 0; c + 1 < width; c += 2) {
        const dx = (predictions[r * width + c] - valid.targets[r * width + c]) * TARGET_SCALE;
        const dy = (predictions[r * width + c + 1] - valid.targets[r * width + c + 1]) * TARGET_SCALE;
        if (Number.isNaN(dx) || Number.isNaN(dy)) continue;
        sum += Math.hypot(dx, dy);
        n++;
      }
      faceErrors[r] = n ? sum / n : Number.NaN;
    }
    return {
      summary: {
        epochs: record.epochs,
        bestEpoch: record.bestEpoch,
        faces: metrics.faces,
        rmsePx: metrics.rmsePx,
        nme: metrics.nme,
        nmeNormaliser: metrics.nmeNormaliser,
        perKeypoint: metrics.perKeypoint,
      },
      predictions,
      faceErrors,
    };
  } finally {
    predictor.dispose();
  }
}

type UnitAction = RunResultsResult['actions'][number]['action'];

/** Whether a run folder already holds a run that reached `target` epochs (or stopped early). */
async function finishedRun(dir: string, target: number): Promise<RunRecord | null> {
  if (!(await exists(join(dir, 'run.json')))) return null;
  const record = await (await RunFolder.open(dir)).readRecord();
  if (record.status === 'early-stopped' || (record.epochs >= target && record.status !== 'running')) {
    return record;
  }
  return null;
}

/** Trains, resumes or keeps one run folder. */
async function ensureRun(
  dir: string,
  target: number,
  dataset: KeypointDataset,
  fresh: () => Promise<RunRecord>,
  options: RunResultsOptions,
): Promise<{ action: UnitAction; interrupted: boolean }> {
  if (await finishedRun(dir, target)) return { action: 'kept', interrupted: false };
  let record: RunRecord;
  let action: UnitAction;
  if (await exists(join(dir, 'model-last.fpm'))) {
    const folder = await RunFolder.open(dir);
    const trained = (await folder.readRecord()).epochs;
    const config = await folder.readConfig<{ maxEpochs: number }>();
    if (trained >= target) return { action: 'kept', interrupted: false };
    const result = await resumeRun(dir, {
      ...(config.maxEpochs !== target ? { maxEpochs: target } : {}),
      dataset,
      log: options.log,
      command: options.command,
    });
    result.net.dispose();
    record = result.record;
    action = 'resumed';
  } else {
    record = await fresh();
    action = 'trained';
  }
  return { action, interrupted: record.status === 'interrupted' };
}

async function readEvaluation(dir: string): Promise<EvaluationSummary | null> {
  try {
    return JSON.parse(await readFile(join(dir, RESULTS_FILES.evaluation), 'utf8')) as EvaluationSummary;
  } catch {
    return null;
  }
}

/**
 * Trains (or goes on with) everything the results page shows and records it
 * in `out`. Call {@link writeResultsPage} afterwards to write the page.
 *
 * @throws ConfigError for a bad budget or data that is not faces with keypoints.
 * @example
 * const { manifest, interrupted } = await runResults({
 *   data: '../shared/data/udacity',
 *   out: `${process.env.HOME}/.cache/facepoints-results`,
 *   budget: 0.05,
 *   log: process.stdout,
 * });
 */
export async function runResults(options: RunResultsOptions): Promise<RunResultsResult> {
  const budget = checkBudget(options.budget);
  let loadAverage = loadavg()[0];
  const seed = options.seed ?? 42;
  const out = resolve(options.out);
  const log = options.log;
  const { dataset, source } = await prepareData(options.data, out, log);
  if (dataset.schema.name !== 'kaggle15') {
    throw new ConfigError(
      `${options.data} holds ${dataset.schema.name} keypoints; the tutorial's nets need kaggle15`,
    );
  }
  const split = validationRows(dataset, { seed });
  const validSet = subsetDataset(dataset, split.valid);
  const identities = dataset.groups ? new Set(dataset.groups).size : null;
  const validIdentities = validSet.groups ? new Set(validSet.groups).size : null;
  log?.write(
    `data: ${dataset.count} faces${identities ? ` of ${identities} identities` : ''}; validation ` +
      `${split.valid.length} faces${validIdentities ? ` of ${validIdentities} identities (split by identity, never by frame)` : ''}\n`,
  );
  const actions: RunResultsResult['actions'] = [];
  const nets: ResultsManifest['nets'] = [];
  const evaluations = new Map<string, { dir: string; model: string; rmsePx: number }>();

  const evaluateRun = async (name: string, dir: string, model: string) => {
    const record = await (await RunFolder.open(dir)).readRecord();
    let summary = await readEvaluation(dir);
    if (!summary || summary.epochs !== record.epochs) {
      summary = (
        await evaluateModel(
          model,
          validSet,
          { epochs: record.epochs, bestEpoch: record.bestEpoch ?? null },
          options.engine,
        )
      ).summary;
      await writeJsonAtomic(join(dir, RESULTS_FILES.evaluation), summary);
    }
    evaluations.set(name, { dir, model, rmsePx: summary.rmsePx });
    return record;
  };

  const manifestOf = (
    bestGeneral: PresetName,
    specialists: ResultsManifest['specialists'],
    sheets: ResultsManifest['sheets'],
  ): ResultsManifest => ({
    budget,
    seed,
    command: options.command ?? [],
    updatedAt: new Date().toISOString(),
    loadAverage,
    data: {
      given: options.data,
      source,
      rows: dataset.count,
      identities,
      completeRows: trainingRows(dataset, dataset.schema.columns, false).length,
      trainRows: split.train.length,
      validRows: split.valid.length,
      validIdentities,
    },
    nets,
    bestGeneral,
    specialists,
    sheets,
  });

  let bestGeneral: PresetName | undefined;
  let bestLoss = Infinity;
  for (const name of RESULT_NETS) {
    const dir = join(out, name);
    const target = netEpochs(name, budget);
    nets.push({ name, dir, targetEpochs: target });
    log?.write(`\n== ${name}: ${target} epochs (budget ${budget}) in ${dir}\n`);
    const { action, interrupted } = await ensureRun(
      dir,
      target,
      dataset,
      async () => {
        const folder = await RunFolder.create(dir, { force: true });
        const config = resolveTrainConfig({
          preset: name,
          maxEpochs: target,
          data: { source, masked: false },
          seed,
          ...(options.engine ? { engine: options.engine } : {}),
        });
        const result = await trainRun({ folder, config, dataset, log, command: options.command });
        result.net.dispose();
        return result.record;
      },
      options,
    );
    actions.push({ name, action });
    if (action === 'kept') log?.write(`${name}: already trained to ${target} epochs, kept\n`);
    if (interrupted)
      return {
        manifest: manifestOf(
          name,
          { dir: '', targetEpochs: 0, groups: [] },
          { model: '', worst: '', median: '' },
        ),
        actions,
        interrupted,
      };
    const record = await evaluateRun(name, dir, join(dir, 'model-best.fpm'));
    if ((record.bestValidLoss ?? Infinity) < bestLoss) {
      bestLoss = record.bestValidLoss ?? Infinity;
      bestGeneral = name;
    }
  }
  if (!bestGeneral) throw new ConfigError('no general net has a validation loss to pick the best by');

  // The specialists, each its own run folder, from the best general net.
  const specialistsDir = join(out, RESULTS_FILES.specialists);
  const general = join(out, bestGeneral, 'model-best.fpm');
  const groups: ResultsManifest['specialists']['groups'] = [];
  let specialistTarget = 0;
  for (const group of SPECIALIST_GROUPS) {
    const columns = groupColumns(group);
    const rows = trainingRows(dataset, columns, false).length;
    const target = options.specialistEpochs ?? scaledEpochs(specialistEpochs(rows), budget);
    specialistTarget = Math.max(specialistTarget, target);
    const dir = join(specialistsDir, group.name);
    groups.push({ name: group.name, dir });
    log?.write(`\n== specialist ${group.name}: ${target} epochs from ${bestGeneral}\n`);
    const { action, interrupted } = await ensureRun(
      dir,
      target,
      dataset,
      async () => {
        const result = await trainSpecialists({
          general,
          data: source,
          dataset,
          out: specialistsDir,
          groups: [group.name],
          epochs: target,
          patience: Math.max(5, scaledEpochs(SPECIALIST_PATIENCE, budget)),
          seed,
          force: true,
          log,
          command: options.command,
          ...(options.engine ? { engine: options.engine } : {}),
        });
        return result.specialists[0].record;
      },
      options,
    );
    actions.push({ name: `specialist ${group.name}`, action });
    if (interrupted)
      return {
        manifest: manifestOf(
          bestGeneral,
          { dir: specialistsDir, targetEpochs: specialistTarget, groups },
          { model: '', worst: '', median: '' },
        ),
        actions,
        interrupted,
      };
  }
  // Merge: one specialists.json listing all six, so predict/evaluate/submit use them as one model.
  const index: SpecialistsIndex = {
    schema: SPECIALIST_SCHEMA.name,
    general,
    specialists: SPECIALIST_GROUPS.map((g) => ({
      name: g.name,
      model: join(g.name, 'model-best.fpm'),
      columns: groupColumns(g),
    })),
  };
  await writeJsonAtomic(join(specialistsDir, SPECIALISTS_FILE), index);
  const mergedRecords = await Promise.all(
    groups.map(async (g) => (await RunFolder.open(g.dir)).readRecord()),
  );
  const mergedEpochs = mergedRecords.reduce((s, r) => s + r.epochs, 0);
  let merged = await readEvaluation(specialistsDir);
  if (!merged || merged.epochs !== mergedEpochs) {
    merged = (
      await evaluateModel(specialistsDir, validSet, { epochs: mergedEpochs, bestEpoch: null }, options.engine)
    ).summary;
    await writeJsonAtomic(join(specialistsDir, RESULTS_FILES.evaluation), merged);
  }
  evaluations.set('specialists', { dir: specialistsDir, model: specialistsDir, rmsePx: merged.rmsePx });

  // Contact sheets of the best model's 16 worst and 16 median validation faces.
  const [bestName, best] = [...evaluations.entries()].reduce((a, b) => (b[1].rmsePx < a[1].rmsePx ? b : a));
  const evaluated = await evaluateModel(best.model, validSet, { epochs: 0, bestEpoch: null }, options.engine);
  const order = Array.from(evaluated.faceErrors.keys())
    .filter((i) => !Number.isNaN(evaluated.faceErrors[i]))
    .sort((a, b) => evaluated.faceErrors[b] - evaluated.faceErrors[a]);
  const take = Math.min(16, order.length);
  const middle = Math.max(0, Math.floor(order.length / 2) - Math.floor(take / 2));
  const sheets = {
    model: bestName,
    worst: join(out, RESULTS_FILES.worstSheet),
    median: join(out, RESULTS_FILES.medianSheet),
  };
  for (const [path, rows] of [
    [sheets.worst, order.slice(0, take)],
    [sheets.median, order.slice(middle, middle + take)],
  ] as const) {
    const faces = subsetDataset(validSet, rows);
    const width = validSet.schema.columns.length;
    const predictions = new Float32Array(rows.length * width);
    rows.forEach((r, k) =>
      predictions.set(evaluated.predictions.subarray(r * width, (r + 1) * width), k * width),
    );
    await writeContactSheet(path, {
      images: faces.images,
      count: faces.count,
      labels: faces.targets,
      predictions,
      columns: 8,
    });
  }
  log?.write(
    `\ncontact sheets of ${bestName} (green labels, red predictions): ${sheets.worst}, ${sheets.median}\n`,
  );

  // A call that only kept what was there reports the load of the call that trained.
  if (actions.every((a) => a.action === 'kept')) {
    try {
      const before = JSON.parse(await readFile(join(out, RESULTS_FILES.manifest), 'utf8')) as ResultsManifest;
      if (Number.isFinite(before.loadAverage)) loadAverage = before.loadAverage;
    } catch {
      // no earlier manifest: keep this call's
    }
  }
  const manifest = manifestOf(
    bestGeneral,
    { dir: specialistsDir, targetEpochs: specialistTarget, groups },
    sheets,
  );
  await writeJsonAtomic(join(out, RESULTS_FILES.manifest), manifest);
  return { manifest, actions, interrupted: false };
}
