/** `facepoints specialists`: the tutorial's six keypoint-group nets, each started from a general net. */
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

import { Command } from 'commander';

import { writeFileAtomic } from '../io/atomic-write.js';
import type { EngineChoice } from '../engine/engine.js';
import { ConfigError } from '../errors.js';
import { SPECIALISTS_FILE, type SpecialistsIndex } from '../predict/predictor.js';
import { RunFolder } from '../runs/run-folder.js';
import { resolveTrainConfig } from '../runs/train-config.js';
import { trainingRows } from '../runs/train-run.js';
import { readModelFile } from '../train/model-file-node.js';
import {
  SPECIALIST_GROUPS,
  SPECIALIST_SCHEMA,
  groupColumns,
  specialistEpochs,
} from '../train/specialist-groups.js';
import { loadDataSource } from './data-source.js';
import { type CliContext, println } from './io.js';
import { engineOption, parsePositiveInt, parseSeed } from './options.js';
import { trainRunWithProgress } from './progress.js';
import { EXIT } from './report-error.js';

interface SpecialistsOptions {
  general: string;
  data: string;
  out: string;
  epochs?: number;
  only?: string;
  patience?: number;
  masked?: boolean;
  seed?: number;
  engine?: EngineChoice;
  force?: boolean;
}

export function specialistsCommand(ctx: CliContext): Command {
  return new Command('specialists')
    .summary("train the tutorial's six keypoint-group specialists from a general model")
    .description(
      'Trains one net per keypoint group (eye centres; nose tip; mouth corners + top lip; bottom lip; eye corners; eyebrows), ' +
        "each with the general model's layers and training settings, its output layer sized to the group, initialised from the " +
        "general model's weights where shapes match, flipping with the group's own left/right pairs, for about 4e6/rows epochs " +
        '(--epochs overrides). Each specialist gets a run folder in OUT; OUT/specialists.json lists them, and predict, evaluate ' +
        'and submit take OUT as a model that merges their predictions.',
    )
    .requiredOption('--general <model>', 'trained general model (.fpm) to start every specialist from')
    .requiredOption('--data <source>', 'Kaggle-format CSV, or synthetic:COUNT[:SEED]')
    .requiredOption('--out <dir>', 'folder for the specialists; must be empty unless --force')
    .option('--epochs <n>', 'epochs of every specialist (default: 4e6 / its rows)', parsePositiveInt)
    .option(
      '--only <names>',
      `comma-separated groups to train (${SPECIALIST_GROUPS.map((g) => g.name).join(', ')})`,
    )
    .option('--patience <n>', 'early stopping patience (default 200, as in the tutorial)', parsePositiveInt)
    .option(
      '--masked',
      "keep rows missing some of a group's keypoints (default: each group keeps its complete rows)",
    )
    .option('--seed <n>', "seed (default: the general model's)", parseSeed)
    .addOption(engineOption())
    .option('--force', 'replace the run files in a non-empty --out')
    .addHelpText(
      'after',
      '\nExample:\n  facepoints specialists --general runs/net6/model-best.fpm --data training.csv --out runs/specialists',
    )
    .action(async (o: SpecialistsOptions) => {
      const wanted = o.only?.split(',').map((s) => s.trim());
      const unknown = wanted?.filter((w) => !SPECIALIST_GROUPS.some((g) => g.name === w)) ?? [];
      if (unknown.length) {
        throw new ConfigError(
          `unknown group ${unknown.join(', ')}: expected ${SPECIALIST_GROUPS.map((g) => g.name).join(', ')}`,
        );
      }
      const groups = SPECIALIST_GROUPS.filter((g) => !wanted || wanted.includes(g.name));
      const general = await readModelFile(o.general);
      if (general.metadata.schema !== SPECIALIST_SCHEMA.name) {
        throw new ConfigError(
          `${o.general}: the specialists are kaggle15 groups, but the model predicts ${String(general.metadata.schema)}`,
        );
      }
      const dataset = await loadDataSource(o.data, SPECIALIST_SCHEMA.name);
      const preset = typeof general.metadata.preset === 'string' ? general.metadata.preset : undefined;
      // Every group's data is checked before anything is written.
      const rowsOf = new Map(
        groups.map((g) => [g.name, trainingRows(dataset, groupColumns(g), o.masked ?? false).length]),
      );
      const outer = await RunFolder.create(o.out, { force: o.force });
      const index: SpecialistsIndex = {
        schema: SPECIALIST_SCHEMA.name,
        general: resolve(o.general),
        specialists: [],
      };
      for (const group of groups) {
        const columns = groupColumns(group);
        const rows = rowsOf.get(group.name)!;
        const layers = structuredClone(general.spec);
        const last = layers.layers[layers.layers.length - 1];
        if (last.kind !== 'dense')
          throw new ConfigError(`${o.general}: the last layer is not dense; cannot resize it for a group`);
        last.units = columns.length;
        const config = resolveTrainConfig({
          ...(preset ? { preset } : {}),
          layers,
          schema: SPECIALIST_SCHEMA.name,
          columns,
          data: { source: o.data, masked: o.masked ?? false },
          maxEpochs: o.epochs ?? specialistEpochs(rows),
          patience: o.patience ?? 200,
          seed: o.seed ?? general.seed,
          engine: o.engine,
          initFrom: resolve(o.general),
        });
        println(
          ctx.stdout,
          `\nspecialist ${group.name}: ${group.keypoints.join(', ')} on ${rows} rows, up to ${config.maxEpochs} epochs`,
        );
        const dir = join(outer.dir, group.name);
        const folder = await RunFolder.create(dir, { force: o.force });
        const result = await trainRunWithProgress(
          { folder, config, dataset, log: ctx.stdout, command: ctx.argv },
          ctx.stdout,
        );
        result.net.dispose();
        index.specialists.push({
          name: group.name,
          model: relative(outer.dir, folder.file('bestModel')),
          columns,
        });
        await mkdir(outer.dir, { recursive: true });
        await writeFileAtomic(join(outer.dir, SPECIALISTS_FILE), `${JSON.stringify(index, null, 2)}\n`);
        if (result.net.stopReason === 'interrupted') {
          println(
            ctx.stderr,
            `stopped in specialist ${group.name}; the finished ones are listed in ${SPECIALISTS_FILE}`,
          );
          ctx.exitCode = EXIT.interrupted;
          return;
        }
      }
      println(
        ctx.stdout,
        `\n${index.specialists.length} specialists in ${outer.dir}; use it as the model of predict, evaluate or submit`,
      );
    });
}
