/** `facepoints predict`: keypoints of images (any size) or of a Kaggle test CSV, as CSV. */
import { access, mkdir, readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

import { Command } from 'commander';

import { writeFileAtomic } from '../io/atomic-write.js';
import { writeContactSheet } from '../data/contact-sheet.js';
import { type CropBox, cropToFrame, decodeImage, pointsFromFrame, wholeImageBox } from '../data/crop.js';
import { readKaggleTestCsv } from '../data/kaggle-csv.js';
import { IMAGE_SIZE, unscaleTarget } from '../data/scaling.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { writeKeypointOverlay } from '../plot/keypoint-overlay.js';
import { loadPredictor } from '../predict/predictor.js';
import { type CliContext, println } from './io.js';
import { engineOption, parseBox } from './options.js';

interface PredictOptions {
  box?: CropBox;
  out: string;
  draw?: string;
  force?: boolean;
  engine?: EngineChoice;
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

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

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
      'Runs a model on image files (PNG/JPEG of any size: the face box given by --box, or the whole image, is resized to 96x96) ' +
        "or on a Kaggle test CSV (ImageId,Image). Writes one CSV row per image with the keypoints in the original image's pixels " +
        '(96x96 frame pixels for a test CSV). --draw DIR also writes each image with its keypoints drawn.',
    )
    .argument('<model>', 'model file (.fpm), run folder or specialists folder')
    .argument('<inputs...>', 'image files, or one Kaggle test CSV')
    .option('--box <x,y,size>', 'face box in pixels (left, top, side), the same for every image', parseBox)
    .option('-o, --out <file>', 'CSV to write', 'predictions.csv')
    .option('--draw <dir>', 'also write images with the keypoints drawn into DIR')
    .option('--force', 'replace existing output files')
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
      if (csvInput && o.box)
        throw new ConfigError('--box applies to image files; a test CSV holds 96x96 frames already');
      for (const input of inputs)
        if (!(await exists(input))) throw new ConfigError(`${input} does not exist`);
      await refuseExisting([o.out], o.force);
      if (o.draw && !o.force && (await exists(o.draw)) && (await readdir(o.draw)).length > 0) {
        throw new ConfigError(`--draw folder ${o.draw} is not empty: use --force to write into it`);
      }
      const model = await loadPredictor(modelPath, { engine: o.engine });
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
          const frames = new Float32Array(inputs.length * IMAGE_SIZE * IMAGE_SIZE);
          const boxes: CropBox[] = [];
          for (const [i, input] of inputs.entries()) {
            const image = await decodeImage(input);
            const box = o.box ?? wholeImageBox(image.width, image.height);
            boxes.push(box);
            frames.set(cropToFrame(image, box), i * IMAGE_SIZE * IMAGE_SIZE);
          }
          const predictions = await model.predict(frames);
          if (o.draw) await mkdir(o.draw, { recursive: true });
          for (const [i, input] of inputs.entries()) {
            const frame = Array.from(predictions.subarray(i * outputs, (i + 1) * outputs), unscaleTarget);
            const points = pointsFromFrame(frame, boxes[i]);
            lines.push([csvCell(input), ...Array.from(points, formatCoordinate)].join(','));
            if (o.draw) {
              const name = `${basename(input, extname(input))}.png`;
              await writeKeypointOverlay(input, points, join(o.draw, name), { box: boxes[i] });
            }
          }
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
