import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { ConfigError } from '../../src/errors.js';
import { fingerprintData } from '../../src/runs/fingerprint.js';
import { machineInfo } from '../../src/runs/machine.js';
import { RUN_FILES, RunFolder, summariseTimings } from '../../src/runs/run-folder.js';

const root = await mkdtemp(join(tmpdir(), 'facepoints-runs-'));
after(() => rm(root, { recursive: true, force: true }));

const history = [
  {
    epoch: 1,
    trainLoss: 0.05,
    validLoss: 0.06,
    trainLossBest: true,
    validLossBest: true,
    trainValRatio: 0.05 / 0.06,
    dur: 1.5,
  },
  {
    epoch: 2,
    trainLoss: 0.03,
    validLoss: Number.NaN,
    trainLossBest: true,
    validLossBest: false,
    trainValRatio: Number.NaN,
    dur: 1.25,
  },
];

test('a new run folder is made; a non-empty one is refused without force', async () => {
  const dir = join(root, 'a', 'nested');
  const run = await RunFolder.create(dir);
  await run.writeConfig({ preset: 'net1', epochs: 2 });
  await assert.rejects(RunFolder.create(dir), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /not empty.*--force/);
    return true;
  });
  // The refused attempt left the folder as it was.
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), {
    preset: 'net1',
    epochs: 2,
  });
});

test('force stages the new run: the earlier run files stay until commit, then are replaced; other files stay', async () => {
  const dir = join(root, 'forced');
  const first = await RunFolder.create(dir);
  await first.writeConfig({ a: 1 });
  await first.writeHistory(history);
  await writeFile(join(dir, 'notes.txt'), 'mine');
  const second = await RunFolder.create(dir, { force: true });
  assert.equal(second.replacing, true);
  await second.writeConfig({ a: 2 });
  // Nothing of the earlier run is touched before the new one commits.
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), { a: 1 });
  assert.ok((await readdir(dir)).includes(RUN_FILES.historyJson));
  await second.commit();
  assert.equal(second.replacing, false);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), { a: 2 });
  // The earlier history, which the new run did not write, is gone; no staging folder is left.
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'notes.txt']);

  const third = await RunFolder.create(dir, { force: true });
  await third.writeConfig({ a: 3 });
  await third.discard();
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), { a: 2 });
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'notes.txt']);
});

test('history round-trips through history.json (NaN as null) and is written as CSV', async () => {
  const run = await RunFolder.create(join(root, 'history'));
  await run.writeHistory(history);
  const back = await run.readHistory();
  assert.equal(back.length, 2);
  assert.equal(back[0].validLoss, 0.06);
  assert.ok(Number.isNaN(back[1].validLoss));
  assert.deepEqual(back[1], {
    ...history[1],
    validLoss: back[1].validLoss,
    trainValRatio: back[1].trainValRatio,
  });
  const csv = (await readFile(run.file('historyCsv'), 'utf8')).trimEnd().split('\n');
  assert.equal(csv[0], 'epoch,train_loss,valid_loss,train_loss_best,valid_loss_best,train_val_ratio,dur');
  assert.equal(csv[1], `1,0.05,0.06,1,1,${0.05 / 0.06},1.5`);
  assert.equal(csv[2], '2,0.03,,1,0,,1.25');
  assert.deepEqual((await readdir(run.dir)).sort(), [RUN_FILES.historyCsv, RUN_FILES.historyJson].sort());
});

test('open finds an existing run and refuses a folder that is not one', async () => {
  const run = await RunFolder.create(join(root, 'open'));
  await run.writeConfig({ preset: 'net2', seed: 7 });
  const again = await RunFolder.open(join(root, 'open'));
  assert.deepEqual(await again.readConfig(), { preset: 'net2', seed: 7 });
  await assert.rejects(RunFolder.open(join(root, 'missing')), /does not exist/);
  await RunFolder.create(join(root, 'empty'));
  await assert.rejects(RunFolder.open(join(root, 'empty')), /not a facepoints run folder/);
  await writeFile(join(root, 'open', 'config.json'), '{ broken');
  await assert.rejects(again.readConfig(), /config\.json.*not valid JSON/);
});

test('the data fingerprint changes with any value and counts complete rows', () => {
  const images = new Float32Array([0.1, 0.2, 0.3, 0.4]);
  const targets = new Float32Array([0.5, -0.5, Number.NaN, 0.25]);
  const fp = fingerprintData({ images, targets, count: 2, schema: 'kaggle15', source: 'x.csv' });
  assert.equal(fp.sha256.length, 64);
  assert.equal(fp.count, 2);
  assert.equal(fp.columns, 2);
  assert.equal(fp.completeRows, 1);
  assert.equal(fingerprintData({ images, targets, count: 2, schema: 'kaggle15' }).sha256, fp.sha256);
  const changed = new Float32Array(images);
  changed[3] = 0.41;
  assert.notEqual(
    fingerprintData({ images: changed, targets, count: 2, schema: 'kaggle15' }).sha256,
    fp.sha256,
  );
});

test('machine info and timings are filled in', () => {
  const machine = machineInfo();
  assert.ok(machine.cpus >= 1);
  assert.match(machine.node, /^v\d+/);
  const session = {
    startedAt: '',
    firstEpoch: 1,
    lastEpoch: 2,
    seconds: 3,
    engine: 'x',
    machine,
    command: [],
  };
  assert.deepEqual(summariseTimings([session, { ...session, seconds: 5 }], 4), {
    totalSeconds: 8,
    meanEpochSeconds: 2,
  });
  assert.deepEqual(summariseTimings([], 0), { totalSeconds: 0, meanEpochSeconds: null });
});
