/**
 * Faults during training: a full disk, Ctrl-C before the first epoch ends,
 * temp files of killed writers, a diverging net. Nothing of an earlier run
 * may be lost, and every failure is one clear line with exit code 1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';

import { writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { RunFolder } from '../../src/runs/run-folder.js';
import { resolveTrainConfig } from '../../src/runs/train-config.js';
import { trainRun } from '../../src/runs/train-run.js';
import { readModelFile } from '../../src/train/model-file-node.js';
import { parseModelFile, serializeModelFile } from '../../src/train/model-file.js';
import { runCli, tempDir } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: root, cleanup } = await tempDir('faults')));
after(() => cleanup());

const sha = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/**
 * Mounts a tmpfs of `size` at `dir` (root only), or skips the test with a
 * message where mounting is not permitted. Unmounted when the test ends.
 */
function mountTmpfs(t: TestContext, dir: string, size: string, options = ''): boolean {
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${options}`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (mounted.status !== 0) {
    t.skip(
      `cannot mount a tmpfs here (${(mounted.stderr || String(mounted.error)).trim()}); run as root to test a full disk`,
    );
    return false;
  }
  t.after(() => {
    spawnSync('umount', [dir]);
  });
  return true;
}

/** Fills the file system of `dir` up to `leave` bytes free, with one file. */
async function fillUpTo(dir: string, leave: number): Promise<void> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  await writeFile(join(dir, 'filler'), Buffer.alloc(Math.max(0, free - leave)));
}

function trainArgs(out: string, ...more: string[]): string[] {
  return ['train', 'net1', '--data', 'synthetic:60', '--batch-size', '16', '--out', out, ...more];
}

test('item 1: --force over a run on a full disk keeps every file of the earlier run', async (t) => {
  const mnt = join(root, 'full-force');
  await mkdir(mnt);
  if (!mountTmpfs(t, mnt, '24m')) return;
  const out = join(mnt, 'run');
  const first = await runCli(...trainArgs(out, '--epochs', '1'));
  assert.equal(first.code, 0, first.stderr);
  const before = Object.fromEntries(
    await Promise.all((await readdir(out)).map(async (name) => [name, await sha(join(out, name))])),
  );
  await fillUpTo(mnt, 1 << 20);
  const forced = await runCli(...trainArgs(out, '--epochs', '2', '--force'));
  assert.equal(forced.code, 1, forced.stderr);
  assert.doesNotMatch(forced.stderr, /unexpected error|\.tmp/);
  assert.match(
    forced.stderr,
    /model-last\.fpm: no space left on the device \(writing it needs 7\.4 MB, 1\.0 MB free\)/,
  );
  assert.match(forced.stderr, /the earlier run in .* is kept as it was/);
  const after = Object.fromEntries(
    await Promise.all((await readdir(out)).map(async (name) => [name, await sha(join(out, name))])),
  );
  assert.deepEqual(after, before);
});

test('item 2: a disk that fills during training: a clear error, exit 1, the last saved model kept and resumable', async (t) => {
  const mnt = join(root, 'full-train');
  await mkdir(mnt);
  if (!mountTmpfs(t, mnt, '24m')) return;
  // Room for model-last.fpm (7.4 MB) once, not for model-best.fpm after it.
  await fillUpTo(mnt, 8_500_000);
  const out = join(mnt, 'run1');
  const full = await runCli(...trainArgs(out, '--epochs', '3', '--save-every', '3600'));
  assert.equal(full.code, 1, full.stderr);
  assert.doesNotMatch(full.stderr, /unexpected error|\.tmp/);
  assert.match(
    full.stderr,
    /run1\/model-best\.fpm: no space left on the device \(writing it needs 3\.7 MB, [\d.]+ (kB|MB) free\)/,
  );
  assert.match(full.stderr, /training stopped after epoch 1; the run's models of epoch 1 are kept/);
  assert.match(full.stderr, /go on with: facepoints train --resume /);
  const last = await readModelFile(join(out, 'model-last.fpm'));
  assert.equal(last.history.length, 1);
  assert.equal(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).status, 'failed');
  assert.deepEqual(
    (await readdir(out)).filter((n) => n.endsWith('.tmp')),
    [],
  );
  await rm(join(mnt, 'filler'));
  const resumed = await runCli('train', '--resume', out);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((await readModelFile(join(out, 'model-last.fpm'))).history.length, 3);
});

test('item 3: Ctrl-C before the first epoch ends leaves a run that --resume goes on with, as if never stopped', async () => {
  const dataset = generateFaces({ count: 60, seed: 1, schema: 'kaggle15' });
  const config = resolveTrainConfig({
    preset: 'net1',
    maxEpochs: 2,
    batchSize: 16,
    engine: 'tfjs',
    data: { source: 'synthetic:60', masked: false },
  });
  const stopped = join(root, 'stopped-early');
  const { net } = await trainRun({
    folder: await RunFolder.create(stopped),
    config,
    dataset,
    callbacks: [{ onBatchFinished: (n) => n.requestStop('interrupted') }],
  });
  assert.equal(net.stopReason, 'interrupted');
  net.dispose();
  const record = JSON.parse(await readFile(join(stopped, 'run.json'), 'utf8'));
  assert.deepEqual([record.status, record.epochs], ['interrupted', 0]);
  const resumed = await runCli('train', '--resume', stopped);
  assert.equal(resumed.code, 0, resumed.stderr);

  const straight = join(root, 'straight');
  const run = await trainRun({ folder: await RunFolder.create(straight), config, dataset });
  run.net.dispose();
  const a = await readModelFile(join(stopped, 'model-last.fpm'));
  const b = await readModelFile(join(straight, 'model-last.fpm'));
  assert.deepEqual(
    a.history.map((r) => r.trainLoss),
    b.history.map((r) => r.trainLoss),
  );
  assert.deepEqual(a.weights, b.weights);
});

test('item 4: temp files and staging folders of killed writers are removed on the next start or resume', async () => {
  const out = join(root, 'litter');
  const first = await runCli(...trainArgs(out, '--epochs', '1', '--engine', 'tfjs'));
  assert.equal(first.code, 0, first.stderr);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const litter = [
    `.model-last.fpm.${dead}.mi3k2a.x7c1qz.tmp`,
    `.model-best.fpm.${dead}.mi3k2b.0a9b8c.tmp`,
    `.run.json.${dead}.mi3k2c.zz09aa.tmp`,
  ];
  for (const name of litter) await writeFile(join(out, name), 'half a file');
  await mkdir(join(out, `.facepoints-new-run.${dead}`));
  // A temp file of a writer that still runs (this process's parent) is not touched.
  const live = `.model-last.fpm.${process.ppid}.mi3k2d.aaaaaa.tmp`;
  await writeFile(join(out, live), 'being written');
  const resumed = await runCli('train', '--resume', out, '--epochs', '2');
  assert.equal(resumed.code, 0, resumed.stderr);
  const left = (await readdir(out)).filter((n) => n.startsWith('.'));
  assert.deepEqual(left, [live]);

  for (const name of litter) await writeFile(join(out, name), 'half a file');
  const forced = await runCli(...trainArgs(out, '--epochs', '1', '--engine', 'tfjs', '--force'));
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(
    (await readdir(out)).filter((n) => n.startsWith('.')),
    [live],
  );
});

test('item 5: a diverging run stops at the first non-finite loss, naming epoch and batch; NaN models are refused', async () => {
  const out = join(root, 'diverged');
  const result = await runCli(...trainArgs(out, '--epochs', '30', '--lr', '1000', '--engine', 'tfjs'));
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /^facepoints: error: training diverged: the (training loss of epoch \d+, batch \d+|validation loss of epoch \d+) is (NaN|-?Infinity) \(learning rate 1000\); train again with a lower learning rate \(--lr/,
  );
  const record = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
  assert.equal(record.status, 'failed');
  assert.ok(record.epochs < 30);
  // What was saved holds only finite numbers and loads.
  for (const name of ['model-best.fpm', 'model-last.fpm']) {
    if (!existsSync(join(out, name))) continue;
    const content = await readModelFile(join(out, name));
    assert.ok(content.history.every((r) => Number.isFinite(r.trainLoss)));
  }

  // A model file with a NaN weight is refused by the parser and by evaluate/predict.
  const good = await readModelFile(join(root, 'straight', 'model-best.fpm'));
  good.weights[0].data[5] = Number.NaN;
  const bytes = serializeModelFile(good);
  assert.throws(
    () => parseModelFile(bytes, 'nan.fpm'),
    /nan\.fpm: weights: parameter \S+ holds NaN \(value 6 of \d+\): the net diverged while training/,
  );
  const nanModel = join(root, 'nan.fpm');
  await writeFile(nanModel, bytes);
  const faces = join(root, 'faces.csv');
  await writeKaggleCsv(faces, generateFaces({ count: 4, seed: 2, schema: 'kaggle15' }));
  const evaluated = await runCli('evaluate', nanModel, faces);
  assert.equal(evaluated.code, 1, evaluated.stderr);
  assert.match(evaluated.stderr, /holds NaN/);
});

test('item 10: bad --valid and too little data are found before the output folder is made', async () => {
  for (const args of [
    ['--data', 'synthetic:50', '--valid', '0.999'],
    ['--data', 'synthetic:1'],
  ]) {
    const out = join(root, `no-folder-${args.join('')}`);
    const result = await runCli('train', 'net1', ...args, '--out', out, '--epochs', '1');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /for validation \(--valid\) leaves no row to (train|validate) on/);
    assert.doesNotMatch(result.stderr, /evalSize/);
    assert.equal(existsSync(out), false, `${out} was made`);
  }
});
