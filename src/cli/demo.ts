/** `facepoints demo`: the out-of-the-box run on generated faces. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

import { Command } from 'commander';

import { writeContactSheet } from '../data/contact-sheet.js';
import { subsetDataset } from '../data/dataset.js';
import { rmseInPixels } from '../data/scaling.js';
import type { EngineChoice } from '../engine/engine.js';
import { selectEngine } from '../engine/select.js';
import { RUN_FILES, RunFolder } from '../runs/run-folder.js';
import { resolveTrainConfig } from '../runs/train-config.js';
import { loadDataSource } from '../data/data-source.js';
import { type CliContext, println } from './io.js';
import { engineOption, parsePositiveInt } from './options.js';
import { trainRunWithProgress } from './progress.js';
import { EXIT } from './report-error.js';

/** The contact sheet of validation predictions the demo writes into its run folder. */
export const DEMO_SHEET = 'predictions.png';

/*
 * Sized to finish in about a minute on a 2-core machine: net1 (a dense net)
 * on 1500 generated faces, 40 epochs on the tfjs wasm engine (~1 s each),
 * 150 on the native engine (~0.25 s each), which learns visibly more.
 */
const DEMO_DEFAULTS = { preset: 'net1', faces: 1500, epochs: { tfjs: 40, native: 150 } } as const;

interface DemoOptions {
  out: string;
  epochs?: number;
  faces: number;
  preset: string;
  engine?: EngineChoice;
  force?: boolean;
}

async function isEarlierDemo(dir: string): Promise<boolean> {
  return access(join(dir, DEMO_SHEET)).then(
    () =>
      access(join(dir, RUN_FILES.config)).then(
        () => true,
        () => false,
      ),
    () => false,
  );
}

export function demoCommand(ctx: CliContext): Command {
  return new Command('demo')
    .summary('train a small net on bundled generated faces and show its predictions')
    .description(
      `Generates ${DEMO_DEFAULTS.faces} synthetic 96x96 faces with exact keypoints, trains ${DEMO_DEFAULTS.preset} on them for ` +
        `${DEMO_DEFAULTS.epochs.tfjs} epochs on the tfjs engine or ${DEMO_DEFAULTS.epochs.native} on the native one (about a minute), printing the training table, and writes a run ` +
        `folder with the loss curves and ${DEMO_SHEET}: validation faces with their true keypoints in green and the ` +
        'predictions in red. A folder of an earlier demo is replaced; any other non-empty folder needs --force.',
    )
    .option('--out <dir>', 'run folder', 'runs/demo')
    .option(
      '--epochs <n>',
      `epochs to train (default ${DEMO_DEFAULTS.epochs.tfjs} on tfjs, ${DEMO_DEFAULTS.epochs.native} on native)`,
      parsePositiveInt,
    )
    .option('--faces <n>', 'generated faces', parsePositiveInt, DEMO_DEFAULTS.faces)
    .option('--preset <name>', 'net to train (net1..net7)', DEMO_DEFAULTS.preset)
    .addOption(engineOption())
    .option('--force', 'replace the run files in a non-empty --out folder')
    .addHelpText(
      'after',
      '\nExample:\n  npx facepoints demo\n  npx facepoints demo --preset net2 --engine native --epochs 30',
    )
    .action(async (o: DemoOptions) => {
      const source = `synthetic:${o.faces}`;
      // The engine is picked here, so the default length can suit its speed.
      const engine = await selectEngine(o.engine ?? 'auto');
      const native = engine.name === 'native';
      const epochs = o.epochs ?? (native ? DEMO_DEFAULTS.epochs.native : DEMO_DEFAULTS.epochs.tfjs);
      const config = resolveTrainConfig({
        preset: o.preset,
        maxEpochs: epochs,
        engine: native ? 'native' : 'tfjs',
        data: { source, masked: false },
      });
      const dataset = await loadDataSource(source, config.schema);
      const folder = await RunFolder.create(o.out, { force: o.force || (await isEarlierDemo(o.out)) });
      println(
        ctx.stdout,
        `facepoints demo: ${config.preset} on ${o.faces} generated faces, ${epochs} epochs`,
      );
      const { net, record } = await trainRunWithProgress(
        { folder, config, dataset, log: ctx.stdout, command: ctx.argv },
        ctx.stdout,
      );
      try {
        const valid = subsetDataset(dataset, net.splitRows(dataset.count, dataset.groups).valid);
        const predictions = await net.predict(valid.images);
        const sheet = join(folder.dir, DEMO_SHEET);
        await writeContactSheet(sheet, {
          images: valid.images,
          count: valid.count,
          labels: valid.targets,
          predictions,
          maxFaces: 32,
        });
        println(ctx.stdout, '');
        if (record.bestValidLoss !== undefined) {
          println(
            ctx.stdout,
            `best valid loss ${record.bestValidLoss.toFixed(6)} = RMSE ${rmseInPixels(record.bestValidLoss).toFixed(2)} px at epoch ${record.bestEpoch} (engine ${record.engine})`,
          );
        }
        println(ctx.stdout, `loss curves:  ${folder.file('lossPng')}`);
        println(ctx.stdout, `predictions:  ${sheet} (green: true keypoints, red: predicted)`);
        println(ctx.stdout, `model:        ${folder.file('bestModel')}`);
        println(ctx.stdout, `run record:   ${folder.dir}`);
        if (net.stopReason === 'interrupted') ctx.exitCode = EXIT.interrupted;
      } finally {
        net.dispose();
      }
    });
}
