/** `facepoints plot`: loss curves of one or several runs in one figure. */
import { stat } from 'node:fs/promises';
import { basename, extname, relative, resolve } from 'node:path';

import { Command } from 'commander';

import { ConfigError } from '../errors.js';
import { type LossSeries, writeLossCurves } from '../plot/loss-curves.js';
import { RunFolder } from '../runs/run-folder.js';
import { readModelFile } from '../train/model-file-node.js';
import { type CliContext, println } from './io.js';

/** The history of a run folder, or of a model file (which carries its history), and the loss it was trained with. */
async function seriesOf(path: string): Promise<{ history: LossSeries['history']; loss: string }> {
  let isFile = false;
  try {
    isFile = (await stat(path)).isFile();
  } catch {
    throw new ConfigError(`${path} does not exist: expected a run folder or a model file`);
  }
  if (isFile) {
    const content = await readModelFile(path);
    return { history: content.history, loss: content.training?.loss?.kind ?? 'mse' };
  }
  const folder = await RunFolder.open(path);
  const config = await folder.readConfig<{ loss?: { kind?: string } }>();
  return { history: await folder.readHistory(), loss: config.loss?.kind ?? 'mse' };
}

/** Short legend labels: folder names, or relative paths when two names clash. */
function labelsFor(paths: string[]): string[] {
  const names = paths.map((p) => basename(resolve(p)));
  if (new Set(names).size === names.length) return names;
  return paths.map((p) => relative(process.cwd(), resolve(p)) || '.');
}

/** Output paths from `--out`: `curves` or `curves.png` or `curves.svg` give curves.png and curves.svg. */
export function figurePaths(out: string): { pngPath: string; svgPath: string } {
  const ext = extname(out).toLowerCase();
  const base = ext === '.png' || ext === '.svg' ? out.slice(0, -ext.length) : out;
  return { pngPath: `${base}.png`, svgPath: `${base}.svg` };
}

export function plotCommand(io: CliContext): Command {
  return new Command('plot')
    .summary('loss curves of one or several runs in one figure (PNG + SVG)')
    .description(
      'Draws the train (solid) and valid (dashed) loss of each run against the epoch, on a log scale,\n' +
        'like the tutorial\'s comparison plots. Each RUN is a run folder written by "facepoints train"\n' +
        '(or a model file, which carries its history).',
    )
    .argument('<runs...>', 'run folders or model files')
    .option('-o, --out <file>', 'figure path; writes FILE.png and FILE.svg', 'loss-curves.png')
    .option('--title <text>', 'figure title')
    .addHelpText('after', '\nExample:\n  facepoints plot runs/net1 runs/net2 --out net1-vs-net2.png')
    .action(async (runs: string[], options: { out: string; title?: string }) => {
      const series: LossSeries[] = [];
      const losses = new Set<string>();
      const labels = labelsFor(runs);
      for (const [i, path] of runs.entries()) {
        const { history, loss } = await seriesOf(path);
        series.push({ label: labels[i], history });
        losses.add(loss);
      }
      const paths = figurePaths(options.out);
      // The axis names every loss the runs trained with; runs of different losses are not comparable on it.
      await writeLossCurves(series, paths, { title: options.title, losses: [...losses] });
      println(io.stdout, `wrote ${paths.pngPath} and ${paths.svgPath}`);
    });
}
