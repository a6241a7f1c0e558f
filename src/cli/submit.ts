/** `facepoints submit`: a Kaggle submission from one model or from specialists. */
import { access } from 'node:fs/promises';

import { Command } from 'commander';

import { readKaggleTestCsv } from '../data/kaggle-csv.js';
import { kaggle15 } from '../data/schemas.js';
import { writeSubmission } from '../data/submission.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError, ModelFileError } from '../errors.js';
import { type Predictor, loadPredictor } from '../predict/predictor.js';
import { type CliContext, println } from './io.js';
import { engineOption } from './options.js';

interface SubmitOptions {
  lookup: string;
  out: string;
  force?: boolean;
  engine?: EngineChoice;
}

/** Predictions in kaggle15's 30-column order (NaN for a column the predictor lacks). */
export async function kaggleColumnsPrediction(
  predictor: Predictor,
  images: Float32Array,
  count: number,
): Promise<Float32Array> {
  const own = await predictor.predict(images);
  const width = kaggle15.columns.length;
  const out = new Float32Array(count * width).fill(Number.NaN);
  const index = predictor.columns.map((c) => kaggle15.columns.indexOf(c));
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < index.length; c++) out[r * width + index[c]] = own[r * index.length + c];
  }
  return out;
}

export async function writeKaggleSubmission(
  modelPath: string,
  testCsv: string,
  o: SubmitOptions,
): Promise<{ rows: number; images: number }> {
  for (const path of [testCsv, o.lookup]) {
    await access(path).catch(() => {
      throw new ConfigError(`${path} does not exist`);
    });
  }
  if (
    !o.force &&
    (await access(o.out).then(
      () => true,
      () => false,
    ))
  ) {
    throw new ConfigError(`${o.out} exists: use --force to replace it`);
  }
  const predictor = await loadPredictor(modelPath, { engine: o.engine });
  try {
    if (predictor.schema.name !== 'kaggle15') {
      throw new ModelFileError(
        modelPath,
        `the model predicts ${predictor.schema.name} keypoints; a Kaggle submission needs kaggle15`,
      );
    }
    const test = await readKaggleTestCsv(testCsv);
    const predictions = await kaggleColumnsPrediction(predictor, test.images, test.count);
    const rows = await writeSubmission({
      predictions,
      imageIds: test.imageIds,
      lookupTablePath: o.lookup,
      outPath: o.out,
    });
    return { rows, images: test.count };
  } finally {
    predictor.dispose();
  }
}

export function submitCommand(ctx: CliContext): Command {
  return new Command('submit')
    .summary('Kaggle submission (RowId,Location) from one model or from specialists')
    .description(
      'Predicts the Kaggle test images (test.csv: ImageId,Image) and writes the rows IdLookupTable.csv asks for, ' +
        'in its order, as pixel coordinates clipped to 0..96. MODEL is a model file, a run folder (its best model) ' +
        'or a folder written by "facepoints specialists" (their predictions merged).',
    )
    .argument('<model>', 'model file, run folder or specialists folder')
    .argument('<test-csv>', "Kaggle's test.csv")
    .requiredOption('--lookup <csv>', "Kaggle's IdLookupTable.csv")
    .option('-o, --out <file>', 'submission CSV to write', 'submission.csv')
    .option('--force', 'replace an existing output file')
    .addOption(engineOption())
    .addHelpText(
      'after',
      '\nExample:\n  facepoints submit runs/specialists test.csv --lookup IdLookupTable.csv --out submission.csv',
    )
    .action(async (modelPath: string, testCsv: string, o: SubmitOptions) => {
      const { rows, images } = await writeKaggleSubmission(modelPath, testCsv, o);
      println(ctx.stdout, `wrote ${rows} rows for ${images} test images to ${o.out}`);
    });
}
