/**
 * `--data SOURCE`: a Kaggle-format CSV (Kaggle's training.csv, or one
 * written by `facepoints import`) or generated faces, `synthetic:COUNT` or
 * `synthetic:COUNT:SEED`.
 */
import { stat } from 'node:fs/promises';

import type { KeypointDataset } from './dataset.js';
import { readKaggleCsv } from './kaggle-csv.js';
import { type SchemaName, getSchema } from './schemas.js';
import { ConfigError, FILE_PROBLEMS, fileProblem } from '../errors.js';

const SYNTHETIC = /^synthetic:(\d+)(?::(\d+))?$/;

/** Seed of generated faces when the source does not name one: the data stays the same whatever the run's seed. */
export const DEFAULT_SYNTHETIC_SEED = 1;

/** Whether a source names generated faces. */
export function isSynthetic(source: string): boolean {
  return source.startsWith('synthetic');
}

/**
 * Loads every row of a data source (incomplete rows included: the run decides).
 *
 * @example
 * const faces = await loadDataSource('synthetic:500', 'kaggle15');
 * const kaggle = await loadDataSource('data/training.csv');
 */
export async function loadDataSource(source: string, schema?: SchemaName): Promise<KeypointDataset> {
  if (isSynthetic(source)) {
    const match = SYNTHETIC.exec(source);
    const count = match ? Number(match[1]) : 0;
    if (!match || count < 1) {
      throw new ConfigError(
        `data source "${source}": expected synthetic:COUNT or synthetic:COUNT:SEED, COUNT >= 1`,
      );
    }
    const { generateFaces } = await import('./synthetic-faces.js');
    const seed = match[2] !== undefined ? Number(match[2]) : DEFAULT_SYNTHETIC_SEED;
    return generateFaces({ count, seed, schema: getSchema(schema ?? 'kaggle15').name });
  }
  let isFile: boolean;
  try {
    isFile = (await stat(source)).isFile();
  } catch (error) {
    const problem = fileProblem(error);
    throw new ConfigError(
      `data source ${source} ${problem}${problem === FILE_PROBLEMS.ENOENT ? ' (expected a Kaggle-format CSV or synthetic:COUNT)' : ''}`,
      { cause: error },
    );
  }
  if (!isFile) throw new ConfigError(`data source ${source} is a folder, expected a Kaggle-format CSV file`);
  const dataset = await readKaggleCsv(source);
  if (schema && dataset.schema.name !== schema) {
    throw new ConfigError(`${source} holds ${dataset.schema.name} keypoints, not ${schema}`);
  }
  return dataset;
}
