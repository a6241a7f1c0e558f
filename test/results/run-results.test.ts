/**
 * `npm run results` end to end on generated faces at a tiny budget: every
 * section of the page, numbers read from the run folders' histories, and a
 * second call that resumes (or keeps) instead of training again.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { rmseInPixels } from '../../src/data/scaling.js';
import { RunFolder } from '../../src/runs/run-folder.js';
import { scheduleClaim } from '../../src/results/claims.js';
import { RESULTS_PLOTS, writeResultsPage } from '../../src/results/results-page.js';
import { runResults, validationRows } from '../../src/results/run-results.js';
import { skipNative } from '../engines.js';

const dir = await mkdtemp(join(tmpdir(), 'facepoints-results-'));
after(() => rm(dir, { recursive: true, force: true }));

const quiet = { write: () => true };
const engine = skipNative ? 'tfjs' : 'native';

test('results: trains every net and the specialists, writes the page from the histories, resumes', async () => {
  // 96 generated faces of 24 "identities", four frames each.
  const faces = generateFaces({ count: 96, seed: 5, schema: 'kaggle15' });
  faces.groups = faces.ids.map((_, i) => `person_${Math.floor(i / 4)}`);
  const csv = join(dir, 'faces.csv');
  await writeKaggleCsv(csv, faces);
  const out = join(dir, 'out');
  const page = join(dir, 'docs', 'results.md');
  const options = { data: csv, out, budget: 0.001, specialistEpochs: 1, engine, log: quiet } as const;

  const first = await runResults(options);
  assert.equal(first.interrupted, false);
  assert.ok(
    first.actions.every((a) => a.action === 'trained'),
    JSON.stringify(first.actions),
  );
  assert.equal(first.actions.length, 12);

  // The validation split keeps identities whole.
  const split = validationRows(faces, { seed: 42 });
  const validPeople = new Set(split.valid.map((r) => faces.groups![r]));
  assert.ok(split.train.every((r) => !validPeople.has(faces.groups![r])));
  assert.equal(first.manifest.data.validIdentities, validPeople.size);

  await writeResultsPage({ out, page });
  const text = await readFile(page, 'utf8');
  for (const heading of [
    '# Results on faces.csv (budget 0.001)',
    '## Data',
    '## Summary',
    "## The seed's claims, from these runs",
    '**1. Do the schedules',
    '**2. Does flipping',
    '**3. Does dropout',
    '**The masked loss.**',
    '**The specialists.**',
    '## Curves',
    '## Each net',
    '### net1',
    '### net6',
    '## The specialists',
    '## Contact sheets (not in the repository)',
    '## Time at other budgets',
    '## Rerun',
  ]) {
    assert.ok(text.includes(heading), `the page has "${heading}"`);
  }
  for (const plot of Object.values(RESULTS_PLOTS)) {
    assert.ok((await stat(join(dir, 'docs', `${plot}.svg`))).size > 1000);
    assert.ok((await stat(join(dir, 'docs', `${plot}.png`))).size > 1000);
  }
  // Contact sheets exist outside the page's folder, and the page names them.
  assert.ok((await stat(first.manifest.sheets.worst)).size > 1000);
  assert.ok(text.includes(first.manifest.sheets.median));

  // Numbers come from the histories: net2's last row and the schedule claim.
  const net2 = await RunFolder.open(join(out, 'net2'));
  const history2 = await net2.readHistory();
  const last = history2[history2.length - 1];
  assert.ok(text.includes(`| ${last.epoch} | ${last.trainLoss.toFixed(6)} | ${last.validLoss.toFixed(6)} |`));
  assert.ok(text.includes(rmseInPixels(last.validLoss).toFixed(2)));
  const history4 = await (await RunFolder.open(join(out, 'net4'))).readHistory();
  const claim = scheduleClaim({ name: 'net4', history: history4 }, { name: 'net2', history: history2 });
  assert.ok(text.includes(claim.text));
  // ... and a changed history changes the page.
  const edited = JSON.parse(await readFile(net2.file('historyJson'), 'utf8')) as { validLoss: number }[];
  edited[edited.length - 1].validLoss = 0.0123456;
  await writeFile(net2.file('historyJson'), JSON.stringify(edited));
  await writeResultsPage({ out, page });
  assert.ok((await readFile(page, 'utf8')).includes('0.012346'));
  await net2.writeHistory(history2);

  // Again at the same budget: nothing trains.
  const again = await runResults(options);
  assert.ok(
    again.actions.every((a) => a.action === 'kept'),
    JSON.stringify(again.actions),
  );

  // A larger budget goes on from the runs there: net3 resumes from its 3 epochs to 6.
  const net3Before = await (await RunFolder.open(join(out, 'net3'))).readHistory();
  const more = await runResults({ ...options, budget: 0.002 });
  const actionOf = (name: string) => more.actions.find((a) => a.name === name)?.action;
  assert.equal(actionOf('net3'), 'resumed');
  assert.equal(actionOf('specialist mouth'), 'kept');
  const net3 = await RunFolder.open(join(out, 'net3'));
  const net3After = await net3.readHistory();
  assert.equal(net3After.length, 6);
  assert.deepEqual(net3After.slice(0, net3Before.length), net3Before);
  assert.equal((await net3.readRecord()).sessions.length, 2);
});
