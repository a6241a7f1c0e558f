// `npm run results`: the tutorial's nets and specialists on real faces, and
// docs/results.md written from their run folders. Run again to resume.
import { homedir } from 'node:os';
import { join } from 'node:path';

import { Command, InvalidArgumentError } from 'commander';

import { runResults } from '../src/results/run-results.js';
import { writeResultsPage } from '../src/results/results-page.js';

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

const program = new Command('results')
  .description(
    "trains net1..net6 and the specialists at a budget of the tutorial's epochs, then writes the results page",
  )
  .option(
    '--budget <fraction>',
    "fraction of every net's tutorial epochs (0.3 = 300 of net2's 1000)",
    number,
    0.05,
  )
  .option(
    '--data <source>',
    'Udacity folder, Kaggle-format CSV (Group column = identity) or synthetic:COUNT',
    '../shared/data/udacity',
  )
  .option(
    '--out <dir>',
    'results folder, outside the repository (run folders, imported faces, contact sheets)',
    join(homedir(), '.cache', 'facepoints-results'),
  )
  .option('--page <file>', 'the page to write (its plots go next to it)', 'docs/results.md')
  .option('--seed <n>', 'one seed for every net', number, 42)
  .option('--engine <engine>', 'auto, native or tfjs', 'auto')
  .option(
    '--specialist-epochs <n>',
    "epochs per specialist (default: the tutorial's, times the budget)",
    number,
  )
  .option('--page-only', 'write the page from the results folder without training');

program.parse();
const o = program.opts<{
  budget: number;
  data: string;
  out: string;
  page: string;
  seed: number;
  engine: 'auto' | 'native' | 'tfjs';
  specialistEpochs?: number;
  pageOnly?: boolean;
}>();

try {
  const started = Date.now();
  if (!o.pageOnly) {
    const result = await runResults({
      data: o.data,
      out: o.out,
      budget: o.budget,
      seed: o.seed,
      engine: o.engine,
      ...(o.specialistEpochs !== undefined ? { specialistEpochs: o.specialistEpochs } : {}),
      log: process.stdout,
      command: ['npm', 'run', 'results', '--', ...process.argv.slice(2)],
    });
    console.log(`\n${result.actions.map((a) => `${a.name}: ${a.action}`).join('; ')}`);
    if (result.interrupted) {
      console.log('stopped: run the same command again to go on');
      process.exit(130);
    }
  }
  const page = await writeResultsPage({ out: o.out, page: o.page });
  console.log(`wrote ${page} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  console.error(`results: error: ${(error as Error).message}`);
  process.exit(1);
}
