/**
 * Loading what predicts keypoints for predict, evaluate and submit: one
 * model file (its metadata names its keypoint columns, written by every
 * training run), or a specialists folder whose models' columns are merged.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import type { MirrorRule } from '../data/scaling.js';
import { type KeypointSchema, getSchema } from '../data/schemas.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError, ModelFileError, fileProblem } from '../errors.js';
import type { ModelMetadata } from '../runs/train-run.js';
import { NeuralNet } from '../train/neural-net.js';
import { averageWithMirror, flipPairsOfColumns, mirrorImages } from './flip-average.js';

/** Name of the file a `specialists` run writes to list its models. */
export const SPECIALISTS_FILE = 'specialists.json';

/** Contents of specialists.json. */
export interface SpecialistsIndex {
  schema: string;
  general: string;
  specialists: { name: string; model: string; columns: string[] }[];
}

export interface LoadedModel {
  net: NeuralNet;
  schema: KeypointSchema;
  /** The target columns the net outputs, in order. */
  columns: string[];
  metadata: ModelMetadata;
}

/** Anything that predicts keypoint columns from 96x96 frames. */
export interface Predictor {
  schema: KeypointSchema;
  columns: string[];
  /** Whether predictions average each face with its mirror image (all of a specialists folder's models, or some). */
  flipTest: boolean;
  predict(images: Float32Array): Promise<Float32Array>;
  dispose(): void;
}

/**
 * @throws ModelFileError for an unreadable file or one without keypoint metadata,
 *   and when `expectSchema` is given and the model predicts another schema.
 * @example
 * const { net, schema } = await loadModel('runs/net1/model-best.fpm', { engine: 'auto', expectSchema: 'kaggle15' });
 */
export async function loadModel(
  path: string,
  options: { engine?: EngineChoice; expectSchema?: string } = {},
): Promise<LoadedModel> {
  const net = await NeuralNet.load(path, {
    engine: options.engine ?? 'auto',
    handleInterrupt: false,
    verbose: 0,
  });
  const fail = (detail: string): never => {
    net.dispose();
    throw new ModelFileError(path, detail);
  };
  const metadata = net.metadata as Partial<ModelMetadata>;
  if (typeof metadata.schema !== 'string' || !Array.isArray(metadata.columns)) {
    fail('the model does not say which keypoints it predicts (no schema in its metadata)');
  }
  let schema: KeypointSchema | undefined;
  try {
    schema = getSchema(String(metadata.schema));
  } catch {
    fail(`unknown keypoint schema "${metadata.schema}" in its metadata`);
  }
  if (options.expectSchema && schema!.name !== options.expectSchema) {
    fail(`the model predicts ${schema!.name} keypoints, but ${options.expectSchema} are needed`);
  }
  if (metadata.columns!.length !== net.resolvedSpec.outputSize) {
    fail(`metadata names ${metadata.columns!.length} columns for ${net.resolvedSpec.outputSize} outputs`);
  }
  return { net, schema: schema!, columns: metadata.columns as string[], metadata: metadata as ModelMetadata };
}

/** What `loadPredictor` is asked. */
export interface PredictorOptions {
  engine?: EngineChoice;
  /**
   * Average each prediction with the one on the mirror image. Default: on
   * for models trained with mirrored samples (their metadata says so), off
   * for the others; true asks for it on any model whose columns mirror.
   */
  flipTest?: boolean;
}

/** The model's predict, flip-averaged when asked or (by default) when it trained with mirrors. */
function modelPredict(
  model: LoadedModel,
  flipTest: boolean | undefined,
  path: string,
): { flipTest: boolean; predict: (images: Float32Array) => Promise<Float32Array> } {
  const pairs = flipPairsOfColumns(model.schema, model.columns);
  const wanted = flipTest ?? model.metadata.trainedWithMirror === true;
  if (!wanted) return { flipTest: false, predict: (images) => model.net.predict(images) };
  if (!pairs) {
    if (flipTest) {
      throw new ConfigError(
        `${path}: its keypoints do not come in mirror pairs, so it cannot average over flips`,
      );
    }
    return { flipTest: false, predict: (images) => model.net.predict(images) };
  }
  const rule: MirrorRule = model.metadata.mirror ?? 'exact';
  return {
    flipTest: true,
    async predict(images) {
      const direct = await model.net.predict(images);
      const mirrored = await model.net.predict(mirrorImages(images));
      return averageWithMirror(direct, mirrored, model.columns.length, pairs, rule);
    },
  };
}

function single(model: LoadedModel, flipTest: boolean | undefined, path: string): Predictor {
  return {
    schema: model.schema,
    columns: model.columns,
    ...modelPredict(model, flipTest, path),
    dispose: () => model.net.dispose(),
  };
}

/** Reads a specialists folder's index. */
export async function readSpecialistsIndex(dir: string): Promise<SpecialistsIndex> {
  const path = join(dir, SPECIALISTS_FILE);
  let value: SpecialistsIndex;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as SpecialistsIndex;
  } catch (error) {
    throw new ConfigError(`${path}: cannot read the specialists index (${(error as Error).message})`);
  }
  if (!value || !Array.isArray(value.specialists) || typeof value.schema !== 'string') {
    throw new ConfigError(`${path}: expected { schema, general, specialists: [...] }`);
  }
  return value;
}

/**
 * Merges specialists: every model predicts its own columns; the result has
 * the schema's columns that any specialist covers, in schema order (a later
 * specialist wins a column two of them predict).
 */
async function specialistsPredictor(dir: string, options: PredictorOptions): Promise<Predictor> {
  const index = await readSpecialistsIndex(dir);
  const schema = getSchema(index.schema);
  const models: LoadedModel[] = [];
  try {
    for (const s of index.specialists) {
      models.push(
        await loadModel(resolve(dir, s.model), { engine: options.engine, expectSchema: schema.name }),
      );
    }
  } catch (error) {
    for (const m of models) m.net.dispose();
    throw error;
  }
  const covered = new Set(models.flatMap((m) => m.columns));
  const columns = schema.columns.filter((c) => covered.has(c));
  const predictors = models.map((m, i) => modelPredict(m, options.flipTest, index.specialists[i].model));
  return {
    schema,
    columns,
    flipTest: predictors.some((p) => p.flipTest),
    async predict(images) {
      const count = images.length / models[0].net.resolvedSpec.inputSize;
      const merged = new Float32Array(count * columns.length);
      for (const [k, m] of models.entries()) {
        const part = await predictors[k].predict(images);
        const width = m.columns.length;
        const target = m.columns.map((c) => columns.indexOf(c));
        for (let r = 0; r < count; r++) {
          for (let c = 0; c < width; c++) merged[r * columns.length + target[c]] = part[r * width + c];
        }
      }
      return merged;
    },
    dispose() {
      for (const m of models) m.net.dispose();
    },
  };
}

/**
 * A model file, or a folder written by `facepoints specialists` (its models merged),
 * or a run folder (its best model).
 *
 * @example
 * const predictor = await loadPredictor('runs/specialists');
 * const predictions = await predictor.predict(images); // count * predictor.columns.length
 * const plain = await loadPredictor('runs/net5', { flipTest: false }); // no flip averaging
 */
export async function loadPredictor(path: string, options: PredictorOptions = {}): Promise<Predictor> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (error) {
    throw new ModelFileError(path, fileProblem(error), { cause: error });
  }
  if (!isFolder) return single(await loadModel(path, options), options.flipTest, path);
  const has = (name: string) =>
    stat(join(path, name)).then(
      (s) => s.isFile(),
      () => false,
    );
  if (await has(SPECIALISTS_FILE)) return specialistsPredictor(path, options);
  if (await has('model-best.fpm')) {
    return single(await loadModel(join(path, 'model-best.fpm'), options), options.flipTest, path);
  }
  throw new ModelFileError(
    path,
    `a folder, but neither a run folder (model-best.fpm) nor a specialists folder (${SPECIALISTS_FILE})`,
  );
}
