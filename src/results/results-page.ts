/**
 * docs/results.md from a results folder: the manifest, each run's history,
 * record and validation evaluation. Only loss curves are drawn next to the
 * page; the contact sheets (they show faces) stay in the results folder and
 * the page names where they are.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';

import { rmseInPixels } from '../data/scaling.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { presetTraining } from '../nn/presets.js';
import { writeLossCurves } from '../plot/loss-curves.js';
import { RunFolder, type RunRecord } from '../runs/run-folder.js';
import type { EpochRecord } from '../train/history.js';
import { SPECIALIST_GROUPS, groupColumns, specialistEpochs } from '../train/specialist-groups.js';
import { bestValid, changeClaim, compareWords, scheduleClaim } from './claims.js';
import { RESULT_NETS, netEpochs, reportEpochs, scaledEpochs } from './plan.js';
import { type EvaluationSummary, RESULTS_FILES, type ResultsManifest } from './run-results.js';

/** Plot files written next to the page. */
export const RESULTS_PLOTS = {
  valid: 'results-valid-curves',
  specialists: 'results-specialists',
} as const;

interface RunView {
  name: string;
  dir: string;
  record: RunRecord;
  history: EpochRecord[];
  evaluation: EvaluationSummary | null;
  maxEpochs: number;
}

async function readRun(name: string, dir: string): Promise<RunView> {
  const folder = await RunFolder.open(dir);
  const [record, history, config] = await Promise.all([
    folder.readRecord(),
    folder.readHistory(),
    folder.readConfig<{ maxEpochs: number }>(),
  ]);
  let evaluation: EvaluationSummary | null = null;
  try {
    evaluation = JSON.parse(await readFile(join(dir, RESULTS_FILES.evaluation), 'utf8')) as EvaluationSummary;
  } catch {
    evaluation = null;
  }
  return { name, dir, record, history, evaluation, maxEpochs: config.maxEpochs };
}

const f6 = (x: number) => (Number.isFinite(x) ? x.toFixed(6) : 'n/a');
const px = (x: number | null | undefined) =>
  x !== null && x !== undefined && Number.isFinite(x) ? `${x.toFixed(2)} px` : 'n/a';
const pct = (x: number | null | undefined) =>
  x !== null && x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : 'n/a';

/** "42 s", "12.5 min", "2.1 h". */
export function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function tildePath(path: string): string {
  const home = homedir();
  return path.startsWith(`${home}/`) ? `~/${path.slice(home.length + 1)}` : path;
}

function machineLine(record: RunRecord): string {
  const session = record.sessions[record.sessions.length - 1];
  if (!session) return 'unknown machine';
  const m = session.machine;
  return `${m.cpuModel}, ${m.cpus} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`;
}

function netTable(run: RunView, tutorialEpochs: number, budget: number): string[] {
  const rows = reportEpochs(tutorialEpochs, budget, run.history.length);
  const lines = ['| epoch | train loss | valid loss | train/val | RMSE px |', '|---:|---:|---:|---:|---:|'];
  for (const e of rows) {
    const r = run.history[e - 1];
    if (!r) continue;
    lines.push(
      `| ${r.epoch} | ${f6(r.trainLoss)} | ${f6(r.validLoss)} | ${f6(r.trainLoss / r.validLoss)} | ${rmseInPixels(r.validLoss).toFixed(2)} |`,
    );
  }
  return lines;
}

/** "real faces" for an imported image folder, "generated faces", or the CSV's name. */
function facesWord(data: ResultsManifest['data']): string {
  if (data.source.startsWith('synthetic')) return 'generated faces';
  if (data.source !== resolve(data.given)) return 'real faces';
  return basename(data.source);
}

function verdict(sign: -1 | 0 | 1 | null, lowerIsYes: string, same: string, higher: string): string {
  if (sign === -1) return lowerIsYes;
  if (sign === 0) return same;
  if (sign === 1) return higher;
  return 'Cannot tell';
}

/**
 * Writes the page and its plots from the results folder `out`.
 *
 * @example
 * await writeResultsPage({ out: `${process.env.HOME}/.cache/facepoints-results`, page: 'docs/results.md' });
 */
export async function writeResultsPage(options: { out: string; page: string }): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(options.out, RESULTS_FILES.manifest), 'utf8'),
  ) as ResultsManifest;
  const { budget } = manifest;
  const nets = await Promise.all(manifest.nets.map((n) => readRun(n.name, n.dir)));
  const byName = new Map(nets.map((n) => [n.name, n]));
  const specialists = await Promise.all(manifest.specialists.groups.map((g) => readRun(g.name, g.dir)));
  let merged: EvaluationSummary | null = null;
  try {
    merged = JSON.parse(
      await readFile(join(manifest.specialists.dir, RESULTS_FILES.evaluation), 'utf8'),
    ) as EvaluationSummary;
  } catch {
    merged = null;
  }
  const pageDir = dirname(options.page);
  const plot = (name: string) => join(pageDir, name);
  await writeLossCurves(
    nets
      .filter((n) => n.name !== 'net1')
      .map((n) => ({
        label: n.name,
        history: n.history.map((r) => ({ epoch: r.epoch, trainLoss: Number.NaN, validLoss: r.validLoss })),
      })),
    { svgPath: `${plot(RESULTS_PLOTS.valid)}.svg`, pngPath: `${plot(RESULTS_PLOTS.valid)}.png` },
    { title: `validation loss per epoch, net2..net6 (budget ${budget})` },
  );
  await writeLossCurves(
    specialists.map((s) => ({ label: s.name, history: s.history })),
    { svgPath: `${plot(RESULTS_PLOTS.specialists)}.svg`, pngPath: `${plot(RESULTS_PLOTS.specialists)}.png` },
    { title: `specialists from ${manifest.bestGeneral}: train (solid) and valid (dashed) loss` },
  );

  const d = manifest.data;
  const command = manifest.command.length
    ? manifest.command.join(' ')
    : `npm run results -- --budget ${budget}`;
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);
  push(
    `# Results on ${facesWord(manifest.data)} (budget ${budget})`,
    '',
    `Written by \`${command}\` (${manifest.updatedAt.slice(0, 10)}) from the run folders ` +
      `in \`${tildePath(dirname(manifest.nets[0]?.dir ?? options.out))}\`: every number below is read from ` +
      "the runs' histories, records and validation evaluations; rerun the command to write it again.",
    '',
    `**Budget ${budget}**: every net trains ${budget} x its tutorial epochs (net2 ${netEpochs('net2', budget)} of 1000, ` +
      `net3 ${netEpochs('net3', budget)} of 3000), the specialists ${budget} x the tutorial's ~4e6 samples each.`,
  );
  if (budget < 0.3) {
    push(
      '',
      `> At budget ${budget} the nets are stopped early in training, far from the tutorial's ` +
        "regime: the answers below describe these short runs only, not the seed's full schedules.",
    );
  }
  push(
    '',
    '## Data',
    '',
    `${d.rows} faces${d.identities ? ` of ${d.identities} identities` : ''} (\`${d.given}\`` +
      `${d.source !== d.given && !d.source.startsWith('synthetic') ? ', imported to the Kaggle-15 schema' : ''}; ` +
      `${d.completeRows} rows have all 15 keypoints). Validation: ${d.validRows} faces` +
      `${d.validIdentities ? ` of ${d.validIdentities} identities` : ''}, split by identity (never by frame), ` +
      `the same for every net (seed ${manifest.seed}); training: ${d.trainRows} faces. The Udacity ` +
      '`test/` folder is not used: it holds near-duplicate frames of training identities, so it is not a fair test.',
    '',
    'RMSE px is sqrt(valid loss) x 48 on the 96x96 frame; NME is the mean point error divided by the ' +
      'distance between the eye centres, averaged over the validation faces, of the best model.',
    '',
    '## Summary',
    '',
    '| net | epochs | best epoch | best valid loss | RMSE px | NME (eye centres) | wall time | s/epoch | engine |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const n of nets) {
    push(
      `| ${n.name} | ${n.record.epochs} | ${n.record.bestEpoch ?? 'n/a'} | ${f6(n.record.bestValidLoss ?? Number.NaN)} | ` +
        `${px(n.evaluation?.rmsePx)} | ${pct(n.evaluation?.nme)} | ${duration(n.record.timings.totalSeconds)} | ` +
        `${(n.record.timings.meanEpochSeconds ?? Number.NaN).toFixed(2)} | ${n.record.engine} |`,
    );
  }
  const specialistSeconds = specialists.reduce((s, r) => s + r.record.timings.totalSeconds, 0);
  const specialistEpochsTrained = specialists.reduce((s, r) => s + r.record.epochs, 0);
  push(
    `| specialists (merged) | ${specialistEpochsTrained} (6 nets) | | | ${px(merged?.rmsePx)} | ${pct(merged?.nme)} | ` +
      `${duration(specialistSeconds)} | ${(specialistSeconds / Math.max(1, specialistEpochsTrained)).toFixed(2)} | ` +
      `${specialists[0]?.record.engine ?? 'n/a'} |`,
    '',
    `Machine: ${nets[0] ? machineLine(nets[0].record) : 'unknown'}.`,
    '',
    "## The seed's claims, from these runs",
    '',
    'One seed per net: differences of a few per cent may be seed noise, which one seed cannot measure.',
    '',
  );
  const h = (name: string) => ({ name, history: byName.get(name)?.history ?? [] });
  const s42 = scheduleClaim(h('net4'), h('net2'));
  const s53 = scheduleClaim(h('net5'), h('net3'));
  const answer1 = (c: { fewerEpochs: number | null }) =>
    c.fewerEpochs === null ? 'No' : c.fewerEpochs > 0 ? 'Yes' : 'No';
  push(
    "**1. Do the schedules (AdjustVariable on learning rate and momentum) reach the constant-rate nets' best " +
      'validation loss in fewer epochs?**',
    '',
    `- net4 vs net2 (no flips): ${answer1(s42)}. ${s42.text}`,
    `- net5 vs net3 (flips): ${answer1(s53)}. ${s53.text}`,
    '',
  );
  const f32 = changeClaim('flips', h('net3'), h('net2'));
  const f54 = changeClaim('flips', h('net5'), h('net4'));
  const flipWords = (sign: -1 | 0 | 1 | null) =>
    `At equal epochs: ${verdict(sign, 'yes, lower', 'no measurable difference', 'no, higher')}`;
  push(
    '**2. Does flipping (FlipBatchIterator) lower the validation loss?**',
    '',
    `- net3 vs net2 (constant rate): ${flipWords(f32.sign)}. ${f32.text}`,
    `- net5 vs net4 (schedules): ${flipWords(f54.sign)}. ${f54.text}`,
    '',
  );
  const d65 = changeClaim('dropout', h('net6'), h('net5'));
  push(
    '**3. Does dropout lower the validation loss?**',
    '',
    `- net6 vs net5 (schedules and flips): ${flipWords(d65.sign)}. ${d65.text}`,
    '',
    '**The masked loss.** ' +
      (d.completeRows === d.rows
        ? `Every one of the ${d.rows} rows has all 15 keypoints here, so the masked loss trains on exactly the ` +
          "rows the tutorial's complete-rows rule keeps: it adds nothing on this data. It matters on Kaggle's " +
          'training.csv, where 2140 of 7049 rows are complete and `--masked` keeps all of them; that is not measured here.'
        : `${d.rows - d.completeRows} of the ${d.rows} rows miss some keypoints: the tutorial's rule drops them, ` +
          "the masked loss would keep them; these runs use the tutorial's rule, so the gain is not measured here."),
    '',
  );
  const general = byName.get(manifest.bestGeneral);
  if (merged && general?.evaluation) {
    const c = compareWords(merged.rmsePx, general.evaluation.rmsePx);
    const n =
      merged.nme !== null && general.evaluation.nme !== null
        ? compareWords(merged.nme, general.evaluation.nme)
        : null;
    push(
      `**The specialists.** Started from ${manifest.bestGeneral} (the lowest validation loss of net1..net6), ` +
        `the six merged reach ${px(merged.rmsePx)} and NME ${pct(merged.nme)} on the validation faces, against ` +
        `${manifest.bestGeneral}'s ${px(general.evaluation.rmsePx)} and ${pct(general.evaluation.nme)}: RMSE ${c.words}` +
        `${n ? `, NME ${n.words}` : ''}. They cost ${duration(specialistSeconds)} of training on top.`,
      '',
    );
  }
  push('## Curves', '', `![validation loss of net2..net6, log scale](${RESULTS_PLOTS.valid}.png)`, '');
  push(
    `[SVG](${RESULTS_PLOTS.valid}.svg)`,
    '',
    `![specialists' learning curves](${RESULTS_PLOTS.specialists}.png)`,
    '',
  );
  push(`[SVG](${RESULTS_PLOTS.specialists}.svg)`, '');
  push('## Each net', '');
  for (const n of nets) {
    const tutorial = presetTraining(n.name).maxEpochs;
    push(
      `### ${n.name}`,
      '',
      `${n.record.epochs} of ${tutorial} tutorial epochs (${n.record.status}), ${n.record.engine} engine, ` +
        `${duration(n.record.timings.totalSeconds)} wall (${(n.record.timings.meanEpochSeconds ?? Number.NaN).toFixed(2)} s/epoch) ` +
        `in ${n.record.sessions.length} session${n.record.sessions.length === 1 ? '' : 's'}; best model (epoch ` +
        `${n.record.bestEpoch ?? 'n/a'}) on the validation faces: RMSE ${px(n.evaluation?.rmsePx)}, NME ${pct(n.evaluation?.nme)}. ` +
        `Machine: ${machineLine(n.record)}.`,
      '',
      ...netTable(n, tutorial, budget),
      '',
    );
  }
  push(
    '## The specialists',
    '',
    `Each starts from ${manifest.bestGeneral}'s weights (its output layer resized to the group), flips with its ` +
      "group's own pairs, and stops early after the budget's share of the tutorial's 200 epochs of patience.",
    '',
    '| group | keypoints | epochs | best epoch | best valid loss | RMSE px | wall time |',
    '|---|---|---:|---:|---:|---:|---:|',
  );
  for (const s of specialists) {
    const group = SPECIALIST_GROUPS.find((g) => g.name === s.name);
    const best = bestValid(s.history);
    push(
      `| ${s.name} | ${group ? groupColumns(group).length / 2 : '?'} | ${s.record.epochs} (${s.record.status}) | ` +
        `${best?.epoch ?? 'n/a'} | ${f6(best?.loss ?? Number.NaN)} | ${best ? rmseInPixels(best.loss).toFixed(2) : 'n/a'} | ` +
        `${duration(s.record.timings.totalSeconds)} |`,
    );
  }
  push(
    '',
    '## Contact sheets (not in the repository)',
    '',
    `The 16 worst and the 16 median validation faces of the best model (${manifest.sheets.model}), labels green, ` +
      'predictions red, are written by the command outside the repository (they show faces):',
    '',
    `- \`${tildePath(manifest.sheets.worst)}\``,
    `- \`${tildePath(manifest.sheets.median)}\``,
    '',
  );
  // What other budgets would take, from the per-epoch times measured here.
  const perEpoch = new Map(nets.map((n) => [n.name, n.record.timings.meanEpochSeconds ?? 0]));
  const specialistPerEpoch = specialistSeconds / Math.max(1, specialistEpochsTrained);
  const estimate = (b: number) => {
    let total = 0;
    for (const name of RESULT_NETS) total += netEpochs(name, b) * (perEpoch.get(name) ?? 0);
    const rows = d.completeRows;
    total += 6 * scaledEpochs(specialistEpochs(rows), b) * specialistPerEpoch;
    return total;
  };
  push(
    '## Time at other budgets',
    '',
    'Estimated from the seconds per epoch measured in these runs, on this machine under the load it had ' +
      `(load average ${Number.isFinite(manifest.loadAverage) ? manifest.loadAverage.toFixed(1) : 'unknown'} on ${nets[0]?.record.sessions[0]?.machine.cpus ?? '?'} cores when ` +
      'the command started); specialists at their full epochs without early stopping, so an upper bound for them:',
    '',
    '| budget | net1..net6 + specialists |',
    '|---:|---:|',
    ...[0.01, 0.05, 0.3, 1].map((b) => `| ${b} | ${duration(estimate(b))} |`),
    '',
    '## Rerun',
    '',
    '```sh',
    `npm run results -- --budget ${budget}            # resumes where it stopped; each net's run folder is its unit`,
    'npm run results -- --budget 0.3 --out DIR        # a larger budget goes on from the runs already there',
    '```',
    '',
    `Run folders, imported data and contact sheets: \`${tildePath(dirname(manifest.sheets.worst ? dirname(manifest.sheets.worst) : options.out))}\`` +
      ` (\`--out\`). This page and its plots (\`${basename(options.page)}\`, \`${RESULTS_PLOTS.valid}.*\`, ` +
      `\`${RESULTS_PLOTS.specialists}.*\`) are the only files written into the repository.`,
    '',
  );
  const text = lines.join('\n');
  await writeFileAtomic(options.page, text);
  return relative(process.cwd(), options.page);
}
