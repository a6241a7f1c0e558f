/**
 * Labelled data for `evaluate`: a Kaggle-format CSV, or a folder of images
 * with landmarks (a Udacity-layout CSV or .pts files), cropped by the data
 * layer's one crop rule exactly as `import` crops them.
 */
import { stat } from 'node:fs/promises';

import type { KeypointDataset } from '../data/dataset.js';
import { importLandmarks } from '../data/import/import-landmarks.js';
import { readKaggleCsv } from '../data/kaggle-csv.js';
import type { SchemaName } from '../data/schemas.js';
import type { CropJitter } from '../data/crop.js';
import { ConfigError, fileError } from '../errors.js';

async function kindOf(path: string): Promise<'file' | 'folder'> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (error) {
    throw fileError(path, error);
  }
}

/**
 * @param schema the keypoints wanted: a folder of 68-point landmarks is mapped to kaggle15 when asked
 * @example
 * const data = await loadLabelledData('faces/', { landmarks: 'faces.csv', schema: 'kaggle15' });
 */
export async function loadLabelledData(
  path: string,
  options: { landmarks?: string; pts?: string; schema: SchemaName },
): Promise<KeypointDataset> {
  if ((await kindOf(path)) === 'file') {
    if (options.landmarks || options.pts) {
      throw new ConfigError(`--landmarks and --pts go with an image folder, but ${path} is a file`);
    }
    return readKaggleCsv(path);
  }
  return labelledDataFromFolder(path, options);
}

/**
 * Imports an image folder with its landmarks (a Udacity-layout CSV, or .pts files).
 *
 * @example
 * const faces = await labelledDataFromFolder('udacity/test', { landmarks: 'udacity/test_frames_keypoints.csv', schema: 'kaggle15' });
 */
export async function labelledDataFromFolder(
  path: string,
  options: {
    landmarks?: string;
    pts?: string;
    schema: SchemaName;
    jitter?: boolean | CropJitter;
    seed?: number;
    contextSize?: number;
  },
): Promise<KeypointDataset> {
  if ((await kindOf(path)) !== 'folder') throw new ConfigError(`${path} is not a folder of images`);
  if (options.landmarks && options.pts) throw new ConfigError('give one of --landmarks and --pts, not both');
  if (options.landmarks) await kindOf(options.landmarks);
  if (options.pts && (await kindOf(options.pts)) !== 'folder')
    throw new ConfigError(`--pts ${options.pts} is not a folder`);
  const dataset = await importLandmarks({
    imagesDir: path,
    schema: options.schema,
    ...(options.landmarks ? { csvPath: options.landmarks } : { ptsDir: options.pts ?? path }),
    ...(options.jitter ? { jitter: options.jitter, seed: options.seed ?? 0 } : {}),
    ...(options.contextSize ? { contextSize: options.contextSize } : {}),
  });
  if (dataset.count === 0) {
    throw new ConfigError(
      `no faces found: ${options.landmarks ?? `no .pts files in ${options.pts ?? path}`}`,
    );
  }
  return dataset;
}
