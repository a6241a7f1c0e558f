import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { writeKaggleCsv } from '../../src/data/kaggle-csv.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { NeuralNet } from '../../src/train/neural-net.js';
import { ENGINES } from '../engines.js';
import { SHARED_DATA } from '../shared-data.js';
import { parseCsv, runCli, tempDir } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
const TINY = ['--data', 'synthetic:120', '--engine', 'tfjs', '--batch-size', '32'];

before(async () => ({ dir: root, cleanup } = await tempDir('train')));
after(() => cleanup());

test('train writes a complete run folder: config, record, history, models with metadata, curves', async () => {
  const out = join(root, 'net1');
  const result = await runCli('train', 'net1', ...TINY, '--epochs', '2', '--seed', '7', '--out', out);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /epoch \| train loss \| valid loss \| train\/val \|\s+dur/);
  assert.match(result.stdout, /^\s+2 \|/m);
  assert.deepEqual((await readdir(out)).sort(), [
    'config.json',
    'history.csv',
    'history.json',
    'loss.png',
    'loss.svg',
    'model-best.fpm',
    'model-last.fpm',
    'run.json',
  ]);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.equal(config.preset, 'net1');
  assert.equal(config.maxEpochs, 2);
  assert.equal(config.seed, 7);
  assert.equal(config.batchSize, 32);
  assert.deepEqual(config.data, { source: 'synthetic:120', masked: false });
  assert.equal(config.layers.layers.at(-1).units, 30);

  const record = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
  assert.equal(record.status, 'finished');
  assert.equal(record.epochs, 2);
  assert.equal(record.seed, 7);
  assert.equal(record.engine, 'tfjs-wasm');
  assert.equal(record.data.count, 120);
  assert.equal(record.data.schema, 'kaggle15');
  assert.match(record.data.sha256, /^[0-9a-f]{64}$/);
  assert.equal(record.sessions.length, 1);
  assert.equal(record.sessions[0].machine.cpus > 0, true);
  assert.ok(record.timings.totalSeconds > 0);

  const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
  assert.deepEqual(
    history.map((r: { epoch: number }) => r.epoch),
    [1, 2],
  );
  const csv = parseCsv(await readFile(join(out, 'history.csv'), 'utf8'));
  assert.deepEqual(csv.header, [
    'epoch',
    'train_loss',
    'valid_loss',
    'train_loss_best',
    'valid_loss_best',
    'train_val_ratio',
    'dur',
  ]);
  assert.equal(csv.rows.length, 2);
  assert.equal(Number(csv.rows[1][2]), history[1].validLoss);

  const net = await NeuralNet.load(join(out, 'model-best.fpm'), { engine: 'tfjs' });
  assert.equal(net.metadata.schema, 'kaggle15');
  assert.equal((net.metadata.columns as string[]).length, 30);
  const faces = generateFaces({ count: 3, seed: 5, schema: 'kaggle15' });
  const predictions = await net.predict(faces.images);
  assert.equal(predictions.length, 90);
  assert.ok(predictions.every(Number.isFinite));
  net.dispose();

  assert.equal((await sharp(join(out, 'loss.png')).metadata()).format, 'png');
  assert.match(await readFile(join(out, 'loss.svg'), 'utf8'), /^<svg/);
});

test('resume goes on from the last model: 2 epochs, then to 4, history 1..4 in two sessions', async () => {
  const out = join(root, 'resume');
  assert.equal((await runCli('train', 'net1', ...TINY, '--epochs', '2', '--out', out)).code, 0);
  const resumed = await runCli('train', '--resume', out, '--epochs', '4');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /^\s+3 \|/m);
  assert.doesNotMatch(resumed.stdout, /^\s+1 \|/m);
  const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
  assert.deepEqual(
    history.map((r: { epoch: number }) => r.epoch),
    [1, 2, 3, 4],
  );
  const record = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
  assert.equal(record.epochs, 4);
  assert.deepEqual(
    record.sessions.map((s: { firstEpoch: number; lastEpoch: number }) => [s.firstEpoch, s.lastEpoch]),
    [
      [1, 2],
      [3, 4],
    ],
  );
  assert.equal(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')).maxEpochs, 4);
  const net = await NeuralNet.load(join(out, 'model-last.fpm'), { engine: 'tfjs' });
  assert.equal(net.epoch, 4);
  net.dispose();
});

for (const { name: engine, skip } of ENGINES) {
  test(
    `${engine}: train --resume equals a straight run of the same seed, bit for bit, on the run's engine`,
    { skip },
    async () => {
      const tiny = ['--data', 'synthetic:120', '--engine', engine, '--batch-size', '32'];
      const straight = join(root, `straight-${engine}`);
      assert.equal((await runCli('train', 'net1', ...tiny, '--epochs', '3', '--out', straight)).code, 0);
      const split = join(root, `split-${engine}`);
      assert.equal((await runCli('train', 'net1', ...tiny, '--epochs', '1', '--out', split)).code, 0);
      // No --engine: the run goes on with the engine its config names (this once fell back to 'auto').
      const resumed = await runCli('train', '--resume', split, '--epochs', '3');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`engine: ${engine === 'tfjs' ? 'tfjs-wasm' : 'native'}`));
      const a = JSON.parse(await readFile(join(straight, 'history.json'), 'utf8'));
      const b = JSON.parse(await readFile(join(split, 'history.json'), 'utf8'));
      assert.deepEqual(
        b.map((r: { trainLoss: number; validLoss: number }) => [r.trainLoss, r.validLoss]),
        a.map((r: { trainLoss: number; validLoss: number }) => [r.trainLoss, r.validLoss]),
      );
      const weights = async (dir: string) => {
        const net = await NeuralNet.load(join(dir, 'model-last.fpm'), { engine: 'tfjs' });
        const w = await net.getWeights();
        net.dispose();
        return w;
      };
      assert.deepEqual(await weights(split), await weights(straight));
    },
  );
}

test('schedules, flips and patience from the command line reach config.json; a JSON config file works', async () => {
  const out = join(root, 'net4ish');
  const configFile = join(root, 'small.json');
  await writeFile(
    configFile,
    JSON.stringify({ preset: 'net1', maxEpochs: 2, batchSize: 32, validSize: 0.25 }),
  );
  const result = await runCli(
    'train',
    configFile,
    '--data',
    'synthetic:80',
    '--engine',
    'tfjs',
    '--lr',
    '0.03:0.001',
    '--momentum',
    '0.9:0.99',
    '--flip',
    '--patience',
    '5',
    '--out',
    out,
  );
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.learningRate, { start: 0.03, stop: 0.001 });
  assert.deepEqual(config.momentum, { start: 0.9, stop: 0.99 });
  assert.equal(config.flip, true);
  assert.equal(config.patience, 5);
  assert.equal(config.validSize, 0.25);
  const net = await NeuralNet.load(join(out, 'model-last.fpm'), { engine: 'tfjs' });
  // AdjustVariable set the rate for epoch 3 at the end of epoch 2: linspace(0.03, 0.001, 2)[1].
  assert.ok(Math.abs(net.variables.updateLearningRate - 0.001) < 1e-9);
  net.dispose();
});

test('--masked keeps incomplete rows; the default drops them like the tutorial', async () => {
  const faces = generateFaces({ count: 60, seed: 3, schema: 'kaggle15' });
  for (let r = 0; r < 20; r++) faces.targets[r * 30 + 20] = Number.NaN; // no nose tip x in 20 rows
  const csvPath = join(root, 'partial.csv');
  await writeKaggleCsv(csvPath, faces);
  const dropped = join(root, 'dropped');
  const masked = join(root, 'masked');
  const common = ['--data', csvPath, '--engine', 'tfjs', '--epochs', '1', '--batch-size', '16'];
  const droppedRun = await runCli('train', 'net1', ...common, '--out', dropped);
  assert.equal(droppedRun.code, 0, droppedRun.stderr);
  assert.match(droppedRun.stdout, /60 rows, 40 complete: training on 40; --masked keeps all, up to 1 epochs/);
  const maskedRun = await runCli('train', 'net1', ...common, '--masked', '--out', masked);
  assert.equal(maskedRun.code, 0, maskedRun.stderr);
  assert.match(maskedRun.stdout, /60 rows, 40 complete: training on all 60 with the masked loss/);
  const count = async (dir: string) => JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')).data;
  assert.deepEqual([(await count(dropped)).count, (await count(dropped)).completeRows], [40, 40]);
  assert.deepEqual([(await count(masked)).count, (await count(masked)).completeRows], [60, 40]);
});

test('a CSV of 68-point faces trains a 136-output net without --schema; a wrong --schema is refused', async () => {
  const csvPath = join(root, 'ibug.csv');
  await writeKaggleCsv(csvPath, generateFaces({ count: 40, seed: 2, schema: 'ibug68' }));
  const out = join(root, 'ibug');
  const result = await runCli(
    'train',
    'net1',
    '--data',
    csvPath,
    '--engine',
    'tfjs',
    '--epochs',
    '1',
    '--flip',
    '--out',
    out,
  );
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.equal(config.schema, 'ibug68');
  assert.equal(config.columns.length, 136);
  assert.equal(config.layers.layers.at(-1).units, 136);
  const wrong = await runCli(
    'train',
    'net1',
    '--data',
    csvPath,
    '--schema',
    'kaggle15',
    '--out',
    join(root, 'x5'),
  );
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /ibug\.csv holds ibug68 keypoints, not kaggle15/);
});

test('bad input fails with exit code 1 and one clear message, leaving nothing behind', async () => {
  const unknown = await runCli('train', 'net9', ...TINY, '--out', join(root, 'x1'));
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^facepoints: error: unknown preset 'net9': expected one of net1, .*net7/);

  const missing = await runCli('train', 'net1', '--data', join(root, 'nope.csv'), '--out', join(root, 'x2'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.csv does not exist/);

  const noData = await runCli('train', 'net1', '--out', join(root, 'x3'));
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, /no training data/);

  const badEpochs = await runCli('train', 'net1', ...TINY, '--epochs', 'ten');
  assert.equal(badEpochs.code, 1);
  assert.match(badEpochs.stderr, /--epochs <n>' argument 'ten' is invalid/);

  const badJson = join(root, 'bad.json');
  await writeFile(badJson, '{ "maxEpochs": 2, "learningrate": 0.1 }');
  const unknownKey = await runCli('train', badJson, ...TINY, '--out', join(root, 'x4'));
  assert.equal(unknownKey.code, 1);
  assert.match(unknownKey.stderr, /bad\.json: unknown setting "learningrate"/);

  for (const dir of ['x1', 'x2', 'x3', 'x4', 'x5']) {
    await assert.rejects(stat(join(root, dir)), /ENOENT/, `${dir} must not be created`);
  }
});

test('a non-empty --out is refused without --force and replaced with it', async () => {
  const out = join(root, 'taken');
  assert.equal((await runCli('train', 'net1', ...TINY, '--epochs', '1', '--out', out)).code, 0);
  const before = await readFile(join(out, 'history.json'), 'utf8');
  const refused = await runCli('train', 'net1', ...TINY, '--epochs', '2', '--out', out);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /output folder .*taken is not empty .*--force/);
  assert.equal(await readFile(join(out, 'history.json'), 'utf8'), before);
  const forced = await runCli('train', 'net1', ...TINY, '--epochs', '2', '--out', out, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(await readFile(join(out, 'history.json'), 'utf8')).length, 2);
});

test('--resume refuses settings that would make it another run, and folders that are not runs', async () => {
  const result = await runCli('train', '--resume', join(root, 'net1'), '--seed', '3');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--resume .* takes only --epochs, --engine and --save-every \(remove --seed\)/);
  const notRun = await runCli('train', '--resume', root);
  assert.equal(notRun.code, 1);
  assert.match(notRun.stderr, /not a facepoints run folder/);
});

const LABELS_ONLY = join(SHARED_DATA, 'kaggle', 'training_labels_only.csv');

test("Kaggle's labels-only file is refused before anything is written", async (t) => {
  if (!existsSync(LABELS_ONLY)) {
    t.skip(`no Kaggle labels file at ${LABELS_ONLY}`);
    return;
  }
  const out = join(root, 'labels-only');
  const result = await runCli('train', 'net1', '--data', LABELS_ONLY, '--out', out);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^facepoints: error: the data has labels but no images/);
  assert.equal(existsSync(out), false);
});

test('--optimizer adam, its schedules, --weight-decay and --loss reach config.json, the model and a resume', async () => {
  const out = join(root, 'adam');
  const result = await runCli(
    'train',
    'net1',
    ...TINY,
    '--epochs',
    '2',
    '--optimizer',
    'adam',
    '--lr',
    '0.002:0.001',
    '--beta1',
    '0.9:0.85',
    '--weight-decay',
    '0.0001',
    '--loss',
    'wing:0.2',
    '--out',
    out,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /best loss [0-9.]+ \(wing\) at epoch/);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.equal(config.optimizer, 'adam');
  assert.deepEqual(config.learningRate, { start: 0.002, stop: 0.001 });
  assert.deepEqual(config.beta1, { start: 0.9, stop: 0.85 });
  assert.deepEqual(config.beta2, { start: 0.999, stop: 0.999 });
  assert.equal(config.momentum, undefined);
  assert.equal(config.weightDecay, 0.0001);
  assert.deepEqual(config.loss, { kind: 'wing', w: 0.2, epsilon: 2 / 48 });
  const net = await NeuralNet.load(join(out, 'model-last.fpm'), { engine: 'tfjs' });
  assert.equal(net.update, 'adam');
  assert.equal(net.variables.updateBeta1, Math.fround(0.85));
  assert.equal(net.variables.weightDecay, 0.0001);
  assert.deepEqual(net.loss, config.loss);
  net.dispose();
  const resumed = await runCli('train', '--resume', out, '--epochs', '3');
  assert.equal(resumed.code, 0, resumed.stderr);
  const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
  assert.deepEqual(
    history.map((r: { epoch: number }) => r.epoch),
    [1, 2, 3],
  );
  const refused = await runCli('train', '--resume', out, '--optimizer', 'nesterov');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /remove --optimizer/);
});

test('bad optimizer and loss settings fail with one clear message', async () => {
  const badLoss = await runCli('train', 'net1', ...TINY, '--loss', 'huber', '--out', join(root, 'y1'));
  assert.equal(badLoss.code, 1);
  assert.match(badLoss.stderr, /unknown loss "huber": expected mse, l1, smooth-l1\[:BETA\] or wing/);
  const momentum = await runCli(
    'train',
    'net1',
    ...TINY,
    '--optimizer',
    'adam',
    '--momentum',
    '0.9',
    '--out',
    join(root, 'y2'),
  );
  assert.equal(momentum.code, 1);
  assert.match(momentum.stderr, /momentum applies to nesterov only, not adam/);
  const beta = await runCli('train', 'net1', ...TINY, '--beta1', '0.9', '--out', join(root, 'y3'));
  assert.match(beta.stderr, /beta1 applies to adam only, not nesterov/);
  const configFile = join(root, 'bad-loss.json');
  await writeFile(configFile, JSON.stringify({ loss: { kind: 'wing', w: 0 } }));
  const fromFile = await runCli('train', configFile, ...TINY, '--out', join(root, 'y4'));
  assert.equal(fromFile.code, 1);
  assert.match(fromFile.stderr, /bad-loss\.json: "loss": wing w must be a positive number, got 0/);
});

test('--augment and --mirror reach config.json, the model records its mirrors, and a resume keeps augmenting', async () => {
  const out = join(root, 'augment');
  const settings = 'rotation=10,noise=0.01';
  const args = ['train', 'net2', ...TINY, '--epochs', '1', '--augment', settings, '--out', out];
  const result = await runCli(...args);
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.equal(config.augment.rotation, 10);
  assert.equal(config.augment.noise, 0.01);
  assert.equal(config.augment.mirror, true);
  const net = await NeuralNet.load(join(out, 'model-best.fpm'), { engine: 'tfjs' });
  assert.equal(net.metadata.trainedWithMirror, true);
  assert.equal(net.metadata.mirror, 'exact');
  net.dispose();
  const resumed = await runCli('train', '--resume', out, '--epochs', '2', '--engine', 'tfjs');
  assert.equal(resumed.code, 0, resumed.stderr);
  // The tutorial's rule on request; a bad rule or setting is refused with what is allowed.
  const tutorial = join(root, 'tutorial-mirror');
  const t = await runCli(
    'train',
    'net3',
    ...TINY,
    '--epochs',
    '1',
    '--mirror',
    'tutorial',
    '--out',
    tutorial,
  );
  assert.equal(t.code, 0, t.stderr);
  assert.equal(JSON.parse(await readFile(join(tutorial, 'config.json'), 'utf8')).mirror, 'tutorial');
  const bad = await runCli(
    'train',
    'net2',
    ...TINY,
    '--augment',
    'spin=3',
    '--out',
    join(root, 'bad-augment'),
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /name=value pairs.*rotation/);
  const badMirror = await runCli(
    'train',
    'net3',
    ...TINY,
    '--mirror',
    'left',
    '--out',
    join(root, 'bad-mirror'),
  );
  assert.notEqual(badMirror.code, 0);
  assert.match(badMirror.stderr, /exact, tutorial/);
});
