/** `facepoints specialists`: the tutorial's six keypoint-group nets, each started from a general net. */
import { Command } from 'commander';

import type { EngineChoice } from '../engine/engine.js';
import { SPECIALISTS_FILE } from '../predict/predictor.js';
import { trainSpecialists } from '../runs/specialists.js';
import { SPECIALIST_GROUPS } from '../train/specialist-groups.js';
import { type CliContext, println } from './io.js';
import { engineOption, parsePositiveInt, parseSeed } from './options.js';
import { withEpochProgress } from './progress.js';
import { EXIT } from './report-error.js';

interface SpecialistsOptions {
  general: string;
  data: string;
  out: string;
  epochs?: number;
  only?: string;
  patience?: number;
  masked?: boolean;
  flip?: boolean;
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
        "general model's weights where shapes match, flipping with the group's own left/right pairs (unless --no-flip) whether or not the general net flipped, for about 4e6/rows epochs " +
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
    .option('--flip', "flip augmentation with each group's own left/right pairs (the default)")
    .option('--no-flip', 'no flip augmentation')
    .option('--seed <n>', "seed (default: the general model's)", parseSeed)
    .addOption(engineOption())
    .option('--force', 'replace the run files in a non-empty --out')
    .addHelpText(
      'after',
      '\nExample:\n  facepoints specialists --general runs/net6/model-best.fpm --data training.csv --out runs/specialists',
    )
    .action(async (o: SpecialistsOptions) => {
      const result = await withEpochProgress(ctx.stdout, (hooks) =>
        trainSpecialists({
          ...hooks,
          general: o.general,
          data: o.data,
          out: o.out,
          groups: o.only?.split(',').map((s) => s.trim()),
          epochs: o.epochs,
          patience: o.patience,
          masked: o.masked,
          flip: o.flip,
          seed: o.seed,
          engine: o.engine,
          force: o.force,
          log: ctx.stdout,
          command: ctx.argv,
        }),
      );
      if (result.interrupted) {
        println(
          ctx.stderr,
          `stopped in specialist ${result.interrupted}; the finished ones are listed in ${SPECIALISTS_FILE}`,
        );
        ctx.exitCode = EXIT.interrupted;
        return;
      }
      println(
        ctx.stdout,
        `\n${result.index.specialists.length} specialists in ${result.dir}; use it as the model of predict, evaluate or submit`,
      );
    });
}
