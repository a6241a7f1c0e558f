/**
 * The shared Udacity faces for the accuracy benchmark: both folders
 * (training + test) imported with the 68 points by the crop rule, and split
 * by identity (about 20 % of the identities, never by frame) into the faces
 * a model may train on and the faces every contender is judged on.
 */
import { join } from 'node:path';

import type { KeypointDataset } from '../../src/data/dataset.js';
import { subsetDataset } from '../../src/data/dataset.js';
import { TrainSplit } from '../../src/train/train-split.js';
import { importLandmarks } from '../../src/data/import/import-landmarks.js';
import { type LandmarkRecord, readLandmarkCsv } from '../../src/data/import/landmark-files.js';

/** The seed of the benchmark's identity split; fixed, so a model trained on `train` never saw a `valid` face. */
export const SPLIT_SEED = 14;
/** Fraction of the faces (whole identities) held out for validation. */
export const VALID_FRACTION = 0.2;

/** The data folder's two parts; a face's id is its image's path under the data folder ('training/NAME.jpg'). */
const FOLDERS = ['training', 'test'] as const;

/**
 * The labelled images of both folders, files named as the faces' ids
 * ('training/NAME.jpg'), so they can be looked up in `dir` and matched to
 * `loadUdacitySplit`'s faces.
 *
 * @example
 * const records = await udacityLandmarkRecords('../shared/data/udacity');
 */
export async function udacityLandmarkRecords(dir: string): Promise<LandmarkRecord[]> {
  const records: LandmarkRecord[] = [];
  for (const folder of FOLDERS) {
    for (const record of await readLandmarkCsv(join(dir, `${folder}_frames_keypoints.csv`))) {
      records.push({ ...record, file: `${folder}/${record.file}` });
    }
  }
  return records;
}

export interface UdacityFaces {
  /** All faces, ids 'training/NAME.jpg' or 'test/NAME.jpg' (the image's path under the data folder). */
  all: KeypointDataset;
  train: KeypointDataset;
  valid: KeypointDataset;
  /** Identities on each side. */
  identities: { train: number; valid: number };
}

/**
 * @example
 * const { train, valid } = await loadUdacitySplit('../shared/data/udacity', { contextSize: 128 });
 */
export async function loadUdacitySplit(
  dir: string,
  options: { contextSize?: number } = {},
): Promise<UdacityFaces> {
  const parts: KeypointDataset[] = [];
  for (const folder of FOLDERS) {
    const part = await importLandmarks({
      csvPath: join(dir, `${folder}_frames_keypoints.csv`),
      imagesDir: join(dir, folder),
      schema: 'ibug68',
      ...(options.contextSize ? { contextSize: options.contextSize } : {}),
    });
    parts.push({ ...part, ids: part.ids.map((id) => `${folder}/${id}`) });
  }
  const all = concatDatasets(parts);
  const split = new TrainSplit({ evalSize: VALID_FRACTION, seed: SPLIT_SEED, shuffle: false }).split(
    all.count,
    {
      groups: all.groups!,
    },
  );
  const train = subsetDataset(all, split.train);
  const valid = subsetDataset(all, split.valid);
  return {
    all,
    train,
    valid,
    identities: { train: new Set(train.groups).size, valid: new Set(valid.groups).size },
  };
}

function concatDatasets(parts: KeypointDataset[]): KeypointDataset {
  const cat = (arrays: Float32Array[]) => {
    const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  const context = parts[0].context;
  return {
    schema: parts[0].schema,
    count: parts.reduce((n, p) => n + p.count, 0),
    images: cat(parts.map((p) => p.images)),
    targets: cat(parts.map((p) => p.targets)),
    ids: parts.flatMap((p) => p.ids),
    groups: parts.flatMap((p) => p.groups ?? []),
    ...(context ? { context: { size: context.size, images: cat(parts.map((p) => p.context!.images)) } } : {}),
  };
}
