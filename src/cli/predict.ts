/** `facepoints predict`: keypoints of images (any size) or of a Kaggle test CSV, as CSV. */
import { access, mkdir, readFile, readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

import { Command, InvalidArgumentError } from 'commander';

import { writeFileAtomic } from '../io/atomic-write.js';
import { writeContactSheet } from '../data/contact-sheet.js';
import { type CropBox, boxOverlapsImage, wholeImageBox } from '../data/crop.js';
import { readKaggleTestCsv } from '../data/kaggle-csv.js';
import { unscaleTarget } from '../data/scaling.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { type Predictor, loadPredictor } from '../predict/predictor.js';
import { decodePhoto } from '../data/photo.js';
import { BLAZEFACE_CALIBRATION } from '../detect/blazeface-calibration.js';
import { type CropCalibration, parseCropCalibration } from '../detect/calibration.js';
import { predictPhoto } from '../predict/predict-photo.js';
import { type PhotoResult, photoResultsCsv, photoResultsJson } from '../predict/photo-output.js';
import { writeFacesOverlay } from '../plot/faces-overlay.js';
import { type CliContext, println } from './io.js';
import { engineOption, parseBox, parsePositiveInt } from './options.js';

interface PredictOptions {
  box?: CropBox;
  out: string;
  draw?: string;
  force?: boolean;
  engine?: EngineChoice;
  flipTest?: boolean;
  wholeImage?: boolean;
  minFace?: number;
  maxFaces?: number;
  minScore?: number;
  calibration?: string;
}

/** Reads a crop calibration file (written by bench/calibrate-detector.ts), or gives the default. */
export async function readCalibration(path: string | undefined): Promise<CropCalibration> {
  if (path === undefined) return BLAZEFACE_CALIBRATION;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`--calibration ${path}: cannot read it (${(error as Error).message})`);
  }
  return parseCropCalibration(value, path);
}

/** Parses a detector score threshold in [0, 1]. */
export function parseScore(text: string): number {
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) throw new InvalidArgumentError('expected a score from 0 to 1.');
  return value;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export { wholeImageBox } from '../data/crop.js';

function formatCoordinate(value: number): string {
  return String(Math.round(value * 1e4) / 1e4);
}

async function refuseExisting(paths: string[], force: boolean | undefined): Promise<void> {
  if (force) return;
  for (const path of paths) {
    if (await exists(path)) throw new ConfigError(`${path} exists: use --force to replace it`);
  }
}

export function predictCommand(ctx: CliContext): Command {
  return new Command('predict')
    .summary('keypoints of images (any size) or of a Kaggle test CSV, written as CSV')
    .description(
      'Runs a model on photos (PNG/JPEG of any size, EXIF orientation honoured): every face the detector (BlazeFace) finds is ' +
        'cropped by the calibrated crop rule, resized to 96x96 and predicted; --box gives the face box instead, --whole-image ' +
        "takes the whole image. Writes one CSV row per face (file, face, score, box, keypoints in the original image's pixels), " +
        'or JSON when --out ends in .json; an image without faces gets a line on stderr and no row. On a Kaggle test CSV ' +
        '(ImageId,Image) it writes one row per ImageId in 96x96 frame pixels. --draw DIR also writes each image with its ' +
        'boxes and keypoints drawn.',
    )
    .argument('<model>', 'model file (.fpm), run folder or specialists folder')
    .argument('<inputs...>', 'image files, or one Kaggle test CSV')
    .option('--box <x,y,size>', 'face box in pixels (left, top, side), the same for every image', parseBox)
    .option('--whole-image', 'no detection: the whole image is the face (images that are face crops already)')
    .option('--min-face <px>', 'ignore detected faces smaller than this (box side, pixels)', parsePositiveInt)
    .option(
      '--max-faces <n>',
      'at most this many faces per image, the most confident first (default 20)',
      parsePositiveInt,
    )
    .option('--min-score <s>', 'lowest detector score kept, 0..1 (default 0.5)', parseScore)
    .option('--calibration <json>', 'detector box -> crop map (default: the one fitted for BlazeFace)')
    .option('-o, --out <file>', 'CSV to write (.json: JSON)', 'predictions.csv')
    .option('--draw <dir>', 'also write images with the keypoints drawn into DIR')
    .option('--force', 'replace existing output files')
    .option(
      '--flip-test',
      'average each face with its mirror image (default for models trained with mirroring)',
    )
    .option('--no-flip-test', 'no flip averaging')
    .addOption(engineOption())
    .addHelpText(
      'after',
      '\nExamples:\n  facepoints predict runs/net1/model-best.fpm photo.jpg --box 120,80,200 --draw drawn/\n  facepoints predict model.fpm test.csv --out test-predictions.csv',
    )
    .action(async (modelPath: string, inputs: string[], o: PredictOptions) => {
      const csvInput = inputs.length === 1 && extname(inputs[0]).toLowerCase() === '.csv';
      if (!csvInput && inputs.some((i) => extname(i).toLowerCase() === '.csv')) {
        throw new ConfigError('give either one test CSV or image files, not both');
      }
      if (csvInput && (o.box || o.wholeImage))
        throw new ConfigError(
          '--box and --whole-image apply to image files; a test CSV holds 96x96 frames already',
        );
      if (o.box && o.wholeImage) throw new ConfigError('give --box or --whole-image, not both');
      const calibration = csvInput ? undefined : await readCalibration(o.calibration);
      for (const input of inputs)
        if (!(await exists(input))) throw new ConfigError(`${input} does not exist`);
      await refuseExisting([o.out], o.force);
      if (o.draw && !o.force && (await exists(o.draw)) && (await readdir(o.draw)).length > 0) {
        throw new ConfigError(`--draw folder ${o.draw} is not empty: use --force to write into it`);
      }
      const model = await loadPredictor(modelPath, { engine: o.engine, flipTest: o.flipTest });
      try {
        const header = [csvInput ? 'ImageId' : 'file', ...model.columns];
        const lines = [header.join(',')];
        const outputs = model.columns.length;
        if (csvInput) {
          const test = await readKaggleTestCsv(inputs[0]);
          const predictions = await model.predict(test.images);
          test.imageIds.forEach((id, r) => {
            const row = Array.from(predictions.subarray(r * outputs, (r + 1) * outputs), (v) =>
              formatCoordinate(unscaleTarget(v)),
            );
            lines.push([String(id), ...row].join(','));
          });
          if (o.draw) {
            await mkdir(o.draw, { recursive: true });
            await writeContactSheet(join(o.draw, 'predictions.png'), {
              images: test.images,
              count: test.count,
              predictions,
            });
          }
        } else {
          await predictPhotos(ctx, model, inputs, o, calibration!);
          return;
        }
        await writeFileAtomic(o.out, `${lines.join('\n')}\n`);
        println(
          ctx.stdout,
          `wrote ${lines.length - 1} rows of ${outputs / 2} keypoints to ${o.out}${o.draw ? `; drawn images in ${o.draw}` : ''}`,
        );
      } finally {
        model.dispose();
      }
    });
}

/**
 * Photos: every face through the detector (or the --box / --whole-image square), one CSV row
 * (or JSON entry) per face; an image without faces gets a stderr line, never invented points.
 */
async function predictPhotos(
  ctx: CliContext,
  model: Predictor,
  inputs: string[],
  o: PredictOptions,
  calibration: CropCalibration,
): Promise<void> {
  const results: PhotoResult[] = [];
  if (o.draw) await mkdir(o.draw, { recursive: true });
  for (const input of inputs) {
    const photo = await decodePhoto(input);
    const box = o.box ?? (o.wholeImage ? wholeImageBox(photo.width, photo.height) : undefined);
    if (box && !boxOverlapsImage(box, photo.width, photo.height)) {
      throw new ConfigError(
        `--box ${box.x},${box.y},${box.size} lies wholly outside ${input} (${photo.width}x${photo.height} pixels)`,
      );
    }
    const prediction = await predictPhoto(model, photo, {
      box,
      calibration,
      minFace: o.minFace,
      maxFaces: o.maxFaces,
      minScore: o.minScore,
    });
    results.push({ file: input, prediction });
    if (prediction.faces.length === 0) println(ctx.stderr, `facepoints: ${input}: no face found`);
    if (o.draw) {
      const name = `${basename(input, extname(input))}.png`;
      const faces = prediction.faces.map((f) => ({ box: f.box, points: f.points, label: String(f.index) }));
      await writeFacesOverlay(input, faces, join(o.draw, name));
    }
  }
  const json = extname(o.out).toLowerCase() === '.json';
  await writeFileAtomic(o.out, (json ? photoResultsJson : photoResultsCsv)(results, model.columns));
  const faces = results.reduce((n, r) => n + r.prediction.faces.length, 0);
  println(
    ctx.stdout,
    `wrote ${faces} rows of ${model.columns.length / 2} keypoints to ${o.out} (${faces} faces in ${inputs.length} images)${o.draw ? `; drawn images in ${o.draw}` : ''}`,
  );
}
