/**
 * Turns a folder of face images with 68-point landmarks into a
 * KeypointDataset in the 96x96 frame: decode (by content), crop by THE rule
 * (`faceCropBox`), resize, transform the points, keep 68 or map to Kaggle's 15.
 */
import { readdir } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConfigError, DataFormatError } from '../../errors.js';
import { Rng } from '../../random/rng.js';
import {
  contextBox,
  cropToFrame,
  decodeImage,
  faceCropBox,
  jitterBox,
  pointsToFrame,
  type CropJitter,
} from '../crop.js';
import { PIXELS_PER_IMAGE, type KeypointDataset } from '../dataset.js';
import { identityOf } from '../identity.js';
import { coordinateRange, scaleTarget } from '../scaling.js';
import { getSchema, mapIbug68ToKaggle15, type SchemaName } from '../schemas.js';
import { placeOfValue, readLandmarkCsv, readPtsRecord, type LandmarkRecord } from './landmark-files.js';

/** Options of `importLandmarks`. Give `csvPath` (Udacity layout) or `ptsDir` (iBUG .pts files). */
export interface ImportLandmarksOptions {
  /** A landmark CSV in the Udacity layout; its file names are looked up in `imagesDir`. */
  csvPath?: string;
  /** A folder of `.pts` files; each `<name>.pts` pairs with `<name>.png|.jpg|.jpeg` in `imagesDir`. */
  ptsDir?: string;
  imagesDir: string;
  /** Keep the 68 points ('ibug68') or map them to Kaggle's 15 ('kaggle15'). */
  schema: SchemaName;
  /** Random shift/scale of each crop box (augmentation); `true` for the defaults. Off by default. */
  jitter?: boolean | CropJitter;
  /** Seed of the jitter. Default 0. */
  seed?: number;
  /**
   * Also keep a wider crop of each face, this many pixels wide (e.g. 128),
   * with the 96x96 frame at its centre: what augmentation samples from so
   * rotations do not cut the face. Written as the CSV's `Context` column.
   */
  contextSize?: number;
  /** How the crop is padded outside the image. Default 'edge'. */
  padding?: 'edge' | 'zero';
  /** Images decoded at once. Default 8. */
  concurrency?: number;
  /** Called after each image, e.g. for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

async function ptsRecords(ptsDir: string): Promise<LandmarkRecord[]> {
  const names = (await readdir(ptsDir)).filter((n) => n.toLowerCase().endsWith('.pts')).sort();
  const records: LandmarkRecord[] = [];
  for (const name of names) {
    // .pts coordinates are 1-based (Matlab); our pixels are 0-based.
    const record = await readPtsRecord(join(ptsDir, name));
    records.push({ ...record, points: record.points.map((v) => v - 1) });
  }
  return records;
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** For .pts records: the image file of the same base name in `imagesDir`. */
async function resolveImageNames(records: LandmarkRecord[], imagesDir: string): Promise<LandmarkRecord[]> {
  const byBase = new Map<string, string>();
  for (const name of await readdir(imagesDir)) {
    const ext = extname(name);
    if (IMAGE_EXTENSIONS.includes(ext.toLowerCase())) byBase.set(name.slice(0, -ext.length), name);
  }
  return records.map((r) => {
    const image = byBase.get(r.file.slice(0, -extname(r.file).length));
    if (!image) {
      throw new DataFormatError(`no image ${IMAGE_EXTENSIONS.join('/')} of the same name in ${imagesDir}`, {
        file: r.file,
      });
    }
    return { ...r, file: image };
  });
}

/**
 * The path of a record's image inside `imagesDir`. A name that leads out of
 * the folder (`../x.png`, an absolute path) is refused: a landmark file must
 * not make the importer read files elsewhere.
 */
function imagePathOf(record: LandmarkRecord, imagesDir: string): string {
  const root = resolve(imagesDir);
  const path = resolve(root, record.file);
  const inside = relative(root, path);
  if (isAbsolute(record.file) || inside === '' || inside === '..' || inside.startsWith(`..${sep}`)) {
    const { file, line } = placeOfValue(record, 0);
    throw new DataFormatError(
      `image name "${record.file}" leads outside the images folder ${imagesDir}: name a file inside it`,
      { file, line, column: 1 },
    );
  }
  return join(imagesDir, record.file);
}

/** Refuses a landmark far outside its image (`coordinateRange`), naming the landmark file, line and column. */
function checkPointsInImage(record: LandmarkRecord, width: number, height: number): void {
  const ranges = [coordinateRange(width), coordinateRange(height)];
  for (let i = 0; i < record.points.length; i++) {
    const value = record.points[i];
    const { min, max } = ranges[i % 2];
    if (!(value >= min && value <= max)) {
      throw new DataFormatError(
        `${i % 2 ? 'y' : 'x'} = ${value} of point ${(i >> 1) + 1} is far outside the ${width}x${height} image ${record.file} (expected ${min} to ${max})`,
        placeOfValue(record, i),
      );
    }
  }
}

/** Runs `work(i)` for i in 0..n-1 with at most `limit` running at once. */
async function forEachLimited(n: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/**
 * The image file names and 68 points (source pixels) of a landmark CSV
 * (Udacity layout) or of a folder of .pts files, in file order.
 *
 * @example
 * const records = await landmarkRecords({ csvPath: 'udacity/training_frames_keypoints.csv', imagesDir: 'udacity/training' });
 */
export async function landmarkRecords(
  options: Pick<ImportLandmarksOptions, 'csvPath' | 'ptsDir' | 'imagesDir'>,
): Promise<LandmarkRecord[]> {
  if ((options.csvPath === undefined) === (options.ptsDir === undefined)) {
    throw new ConfigError('give exactly one of csvPath and ptsDir');
  }
  return options.csvPath
    ? readLandmarkCsv(options.csvPath)
    : resolveImageNames(await ptsRecords(options.ptsDir!), options.imagesDir);
}

/**
 * Imports images with landmarks. ids are the image file names and groups
 * their identities (`identityOf`), so the training split keeps each person on one
 * side of a split. Write the result with `writeKaggleCsv` so later tools read
 * one format.
 *
 * @example
 * const train = await importLandmarks({
 *   csvPath: 'udacity/training_frames_keypoints.csv',
 *   imagesDir: 'udacity/training',
 *   schema: 'kaggle15',
 * });
 * await writeKaggleCsv('udacity-train.csv', train);
 */
export async function importLandmarks(options: ImportLandmarksOptions): Promise<KeypointDataset> {
  if ((options.csvPath === undefined) === (options.ptsDir === undefined)) {
    throw new ConfigError('importLandmarks needs exactly one of csvPath and ptsDir');
  }
  const schema = getSchema(options.schema);
  if (options.contextSize !== undefined) contextBox({ x: 0, y: 0, size: 96 }, options.contextSize); // checks it
  const records = await landmarkRecords(options);
  const imagePaths = records.map((r) => imagePathOf(r, options.imagesDir));
  const jitter = options.jitter === true ? {} : options.jitter || undefined;
  const seed = options.seed ?? 0;
  const count = records.length;
  const width = schema.columns.length;
  const images = new Float32Array(count * PIXELS_PER_IMAGE);
  const targets = new Float32Array(count * width);
  const contextSize = options.contextSize;
  const contextPixels = contextSize ? contextSize * contextSize : 0;
  const context = contextSize ? new Float32Array(count * contextPixels) : undefined;
  let done = 0;
  await forEachLimited(count, options.concurrency ?? 8, async (i) => {
    const { points } = records[i];
    const image = await decodeImage(imagePaths[i]);
    checkPointsInImage(records[i], image.width, image.height);
    let box = faceCropBox(points);
    if (jitter) box = jitterBox(box, new Rng(seed, 'crop-jitter', i), jitter);
    images.set(cropToFrame(image, box, { padding: options.padding }), i * PIXELS_PER_IMAGE);
    if (context) {
      const wide = cropToFrame(image, contextBox(box, contextSize!), {
        padding: options.padding,
        size: contextSize,
      });
      context.set(wide, i * contextPixels);
    }
    const frame = pointsToFrame(points, box);
    const kept = schema.name === 'kaggle15' ? mapIbug68ToKaggle15(frame) : frame;
    for (let c = 0; c < width; c++) targets[i * width + c] = scaleTarget(kept[c]);
    options.onProgress?.(++done, count);
  });
  const ids = records.map((r) => r.file);
  return {
    schema,
    count,
    images,
    targets,
    ids,
    groups: ids.map(identityOf),
    ...(context ? { context: { size: contextSize!, images: context } } : {}),
  };
}
