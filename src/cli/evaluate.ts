/** `facepoints evaluate`: a model's keypoint errors on labelled data. */
import { stat } from 'node:fs/promises';

import { Command } from 'commander';

import type { EngineChoice } from '../engine/engine.js';
import { ConfigError, ModelFileError } from '../errors.js';
import { type KeypointMetrics, keypointMetrics } from '../eval/keypoint-metrics.js';
import { landmarkRecords } from '../data/import/import-landmarks.js';
import {
  type EndToEndMetrics,
  FAILURE_NME,
  evaluateEndToEnd,
  predictorKeypointer,
} from '../eval/end-to-end.js';
import { type Predictor, loadPredictor } from '../predict/predictor.js';
import { type CliContext, type OutStream, println } from './io.js';
import { loadLabelledData } from './labelled-data.js';
import { engineOption, parsePositiveInt } from './options.js';
import { parseScore, readCalibration } from './predict.js';

function fixed(value: number | null, digits: number): string {
  return value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

/** The human-readable report. */
export function printMetrics(out: OutStream, m: KeypointMetrics): void {
  println(out, `faces: ${m.faces}`);
  println(out, `RMSE: ${fixed(m.rmsePx, 3)} px (MSE ${fixed(m.mse, 6)} in scaled units)`);
  println(
    out,
    `NME: ${m.nme === null ? '-' : `${(m.nme * 100).toFixed(2)} %`} of the ${m.nmeNormaliser} distance (${m.nmeFaces} faces)`,
  );
  const width = Math.max(8, ...m.perKeypoint.map((k) => k.keypoint.length));
  println(out, `${'keypoint'.padEnd(width)} | RMSE px | mean px | faces`);
  println(out, `${'-'.repeat(width)}-|---------|---------|------`);
  for (const k of m.perKeypoint) {
    println(
      out,
      `${k.keypoint.padEnd(width)} | ${fixed(k.rmsePx, 3).padStart(7)} | ${fixed(k.meanErrorPx, 3).padStart(7)} | ${String(k.count).padStart(5)}`,
    );
  }
}

interface EvaluateOptions {
  landmarks?: string;
  pts?: string;
  json?: boolean;
  engine?: EngineChoice;
  flipTest?: boolean;
  detect?: boolean;
  calibration?: string;
  minFace?: number;
  minScore?: number;
}

function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)} %`;
}

/** The human-readable report of `evaluate --detect`. */
export function printEndToEnd(out: OutStream, m: EndToEndMetrics): void {
  println(out, `images: ${m.images}`);
  println(
    out,
    `detected: ${m.detected} (${percent(m.detectionRate)}; IoU > ${m.minIou} with the landmarks' box)`,
  );
  println(
    out,
    `NME on detected faces: ${m.nme === null ? '-' : `${(m.nme * 100).toFixed(2)} %`} of the ${m.nmeNormaliser} distance`,
  );
  println(out, `failure rate (NME > ${FAILURE_NME}): ${percent(m.failureRate)}`);
}

/** `evaluate --detect`: photos through the detector, the calibrated crop and the net, against their landmarks. */
async function evaluateDetect(
  ctx: CliContext,
  model: Predictor,
  dataPath: string,
  o: EvaluateOptions,
): Promise<void> {
  if (
    !o.landmarks &&
    !o.pts &&
    !(await stat(dataPath).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new ConfigError(
      `--detect needs an image folder with --landmarks CSV or .pts files, not ${dataPath}`,
    );
  }
  const records = await landmarkRecords({
    imagesDir: dataPath,
    ...(o.landmarks ? { csvPath: o.landmarks } : { ptsDir: o.pts ?? dataPath }),
  });
  if (records.length === 0) throw new ConfigError(`no labelled faces in ${o.landmarks ?? o.pts ?? dataPath}`);
  const keypointer = predictorKeypointer(model, {
    calibration: await readCalibration(o.calibration),
    minFace: o.minFace,
    minScore: o.minScore,
  });
  const metrics = await evaluateEndToEnd({ records, imagesDir: dataPath, schema: model.schema, keypointer });
  if (o.json) {
    const { perImage: _perImage, ...summary } = metrics;
    println(ctx.stdout, JSON.stringify({ data: dataPath, ...summary }, null, 2));
  } else printEndToEnd(ctx.stdout, metrics);
}

export function evaluateCommand(ctx: CliContext): Command {
  return new Command('evaluate')
    .summary("a model's RMSE (px), per-keypoint errors and NME on labelled data")
    .description(
      'Predicts the keypoints of labelled faces and reports the RMSE in pixels of the 96x96 frame overall and per keypoint, ' +
        'and the NME: mean point error over the inter-ocular distance (eye centres for kaggle15, outer eye corners for ibug68). ' +
        'DATA is a Kaggle-format CSV, or a folder of images with landmarks (--landmarks CSV in the Udacity layout, ' +
        'or .pts files), cropped by the same rule as "facepoints import".',
    )
    .argument('<model>', 'model file (.fpm), run folder or specialists folder')
    .argument('<data>', 'Kaggle-format CSV, or an image folder')
    .option('--landmarks <csv>', 'landmark CSV of an image folder (Udacity layout)')
    .option('--pts <dir>', 'folder of .pts landmark files (default: the image folder)')
    .option('--json', 'print the metrics as JSON')
    .option(
      '--flip-test',
      'average each face with its mirror image (default for models trained with mirroring)',
    )
    .option('--no-flip-test', 'no flip averaging')
    .option(
      '--detect',
      'end to end on photos: find faces with the detector, crop by the calibration, report detection rate, NME and failure rate',
    )
    .option(
      '--calibration <json>',
      'with --detect: detector box -> crop map (default: the one fitted for BlazeFace)',
    )
    .option('--min-face <px>', 'with --detect: ignore detected faces smaller than this', parsePositiveInt)
    .option('--min-score <s>', 'with --detect: lowest detector score kept (default 0.5)', parseScore)
    .addOption(engineOption())
    .addHelpText(
      'after',
      '\nExamples:\n  facepoints evaluate runs/net1/model-best.fpm valid.csv\n  facepoints evaluate model.fpm faces/ --landmarks faces.csv --json\n  facepoints evaluate runs/net5/model-best.fpm photos/ --landmarks photos.csv --detect',
    )
    .action(async (modelPath: string, dataPath: string, o: EvaluateOptions) => {
      if (!o.detect && (o.calibration || o.minFace !== undefined || o.minScore !== undefined)) {
        throw new ConfigError('--calibration, --min-face and --min-score go with --detect');
      }
      const model = await loadPredictor(modelPath, { engine: o.engine, flipTest: o.flipTest });
      try {
        if (o.detect) {
          await evaluateDetect(ctx, model, dataPath, o);
          return;
        }
        const data = await loadLabelledData(dataPath, {
          landmarks: o.landmarks,
          pts: o.pts,
          schema: model.schema.name,
        });
        if (data.schema.name !== model.schema.name) {
          throw new ModelFileError(
            modelPath,
            `the model predicts ${model.schema.name} keypoints, but ${dataPath} holds ${data.schema.name}`,
          );
        }
        if (data.images.length === 0) {
          throw new ConfigError(`${dataPath} has labels but no Image column: evaluate needs the images`);
        }
        const predictions = await model.predict(data.images);
        const metrics = keypointMetrics({
          predictions,
          labels: data.targets,
          count: data.count,
          columns: model.columns,
          schema: data.schema,
        });
        if (o.json)
          println(
            ctx.stdout,
            JSON.stringify(
              { model: modelPath, data: dataPath, flipTest: model.flipTest, ...metrics },
              null,
              2,
            ),
          );
        else {
          println(ctx.stdout, `flip averaging: ${model.flipTest ? 'on' : 'off'}`);
          printMetrics(ctx.stdout, metrics);
        }
      } finally {
        model.dispose();
      }
    });
}
