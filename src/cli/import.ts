/** `facepoints import`: images with landmarks -> a Kaggle-format CSV every other command reads. */
import { access } from 'node:fs/promises';

import { Command, InvalidArgumentError, Option } from 'commander';

import { countComplete } from '../data/dataset.js';
import { writeKaggleCsv } from '../data/kaggle-csv.js';
import type { SchemaName } from '../data/schemas.js';
import { ConfigError } from '../errors.js';
import { type CliContext, println } from './io.js';
import { labelledDataFromFolder } from './labelled-data.js';
import { parseFraction, parseSeed } from './options.js';

function parseContextSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 96 || (n - 96) % 2 !== 0) {
    throw new InvalidArgumentError('expected a whole number of pixels >= 96 with an even margin, e.g. 128.');
  }
  return n;
}

interface ImportOptions {
  landmarks?: string;
  pts?: string;
  schema: SchemaName;
  out: string;
  jitter?: boolean;
  jitterShift?: number;
  jitterScale?: number;
  seed?: number;
  contextSize?: number;
  force?: boolean;
}

export function importCommand(ctx: CliContext): Command {
  return new Command('import')
    .summary('images with 68-point landmarks (Udacity CSV or .pts) -> Kaggle-format CSV')
    .description(
      "Crops each face to a square around its landmarks (the data layer's crop rule), resizes it to 96x96 grayscale, " +
        "keeps the 68 points (--schema ibug68) or maps them to Kaggle's 15 (--schema kaggle15), and writes a Kaggle-format " +
        'CSV with Id and Group (identity) columns, which train, evaluate and plot read.',
    )
    .argument('<images>', 'folder of images (PNG/JPEG, read by content)')
    .option('--landmarks <csv>', 'landmark CSV in the Udacity layout (file name, then 68 x,y pairs)')
    .option(
      '--pts <dir>',
      'folder of iBUG .pts files (default: the image folder, when --landmarks is not given)',
    )
    .addOption(
      new Option('--schema <name>', 'keypoints to keep').choices(['kaggle15', 'ibug68']).default('kaggle15'),
    )
    .requiredOption('-o, --out <file>', 'CSV to write')
    .option('--jitter', 'shift and scale each crop at random (augmentation)')
    .option(
      '--jitter-shift <fraction>',
      'largest centre shift of --jitter, a fraction of the crop (default 0.05)',
      parseFraction,
    )
    .option(
      '--jitter-scale <fraction>',
      'largest relative size change of --jitter (default 0.1)',
      parseFraction,
    )
    .option('--seed <n>', 'seed of the jitter', parseSeed)
    .option(
      '--context-size <pixels>',
      'also write a wider crop of each face (e.g. 128: the 96x96 frame at its centre, same scale) as a Context column, for augmentation',
      parseContextSize,
    )
    .option('--force', 'replace an existing output file')
    .addHelpText(
      'after',
      '\nExample:\n  facepoints import udacity/training --landmarks udacity/training_frames_keypoints.csv --out udacity-train.csv',
    )
    .action(async (images: string, o: ImportOptions) => {
      if ((o.jitterShift !== undefined || o.jitterScale !== undefined) && !o.jitter) {
        throw new ConfigError('--jitter-shift and --jitter-scale go with --jitter');
      }
      if (!o.force) {
        const taken = await access(o.out).then(
          () => true,
          () => false,
        );
        if (taken) throw new ConfigError(`${o.out} exists: use --force to replace it`);
      }
      const dataset = await labelledDataFromFolder(images, {
        landmarks: o.landmarks,
        pts: o.pts,
        schema: o.schema,
        jitter:
          o.jitterShift !== undefined || o.jitterScale !== undefined
            ? { shift: o.jitterShift, scale: o.jitterScale }
            : o.jitter,
        seed: o.seed,
        contextSize: o.contextSize,
      });
      await writeKaggleCsv(o.out, dataset, { includeIds: true });
      println(
        ctx.stdout,
        `wrote ${dataset.count} faces (${countComplete(dataset)} with every keypoint) of ${o.schema} to ${o.out}`,
      );
    });
}
