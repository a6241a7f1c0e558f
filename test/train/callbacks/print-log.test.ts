import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHeader, formatRow, PrintLog } from '../../../src/train/callbacks/print-log.js';
import { makeEpochRecord, type EpochRecord } from '../../../src/train/history.js';
import { NeuralNet } from '../../../src/train/neural-net.js';

const net = new NeuralNet({
  layers: [
    { kind: 'input', shape: [2] },
    { kind: 'dense', units: 1 },
  ],
});

function run(stream: { write(text: string): void; isTTY?: boolean }, losses: [number, number][]) {
  const log = new PrintLog({ stream });
  const history: EpochRecord[] = [];
  log.onTrainingStarted();
  for (const [trainLoss, validLoss] of losses) {
    history.push(makeEpochRecord(history, { trainLoss, validLoss, dur: 0.5 }));
    log.onEpochFinished(net, history);
  }
}

test('prints the seed table live: header once, one row per epoch, bests starred on a plain stream', () => {
  const writes: string[] = [];
  run({ write: (t) => writes.push(t) }, [
    [0.1, 0.05],
    [0.08, 0.06],
  ]);
  assert.equal(writes.length, 2, 'one write per epoch');
  const lines = writes.join('').trimEnd().split('\n');
  assert.deepEqual(lines, [
    'epoch | train loss | valid loss | train/val |     dur',
    '------|------------|------------|-----------|--------',
    '    1 |   0.100000*|   0.050000*|  2.000000 |   0.50s',
    '    2 |   0.080000*|   0.060000 |  1.333333 |   0.50s',
  ]);
  assert.equal(formatHeader().split('\n')[0].length, lines[2].length);
});

test('colours bests like nolearn on a terminal, and shows - without validation', () => {
  const writes: string[] = [];
  run({ write: (t) => writes.push(t), isTTY: true }, [[0.1, 0.05]]);
  assert.ok(writes[0].includes('\u001b[36m  0.100000\u001b[0m'), writes[0]);
  assert.ok(writes[0].includes('\u001b[32m  0.050000\u001b[0m'), writes[0]);
  const row = formatRow(
    {
      epoch: 3,
      trainLoss: 0.2,
      validLoss: NaN,
      trainLossBest: false,
      validLossBest: false,
      trainValRatio: NaN,
      dur: 12.345,
    },
    false,
  );
  assert.equal(row, '    3 |   0.200000 |          - |         - |  12.35s');
});

test('the columns stay aligned for any value: huge and tiny losses, inf, long epochs, many epochs', () => {
  const bars = (line: string) => [...line].flatMap((c, i) => (c === '|' ? [i] : []));
  const records: EpochRecord[] = [
    {
      epoch: 1,
      trainLoss: 123456.789,
      validLoss: 1e-12,
      trainLossBest: true,
      validLossBest: true,
      trainValRatio: 1.2e17,
      dur: 0.01,
    },
    {
      epoch: 2,
      trainLoss: Infinity,
      validLoss: NaN,
      trainLossBest: false,
      validLossBest: false,
      trainValRatio: -3.5e-9,
      dur: 12345.6,
    },
    {
      epoch: 123456,
      trainLoss: -0.5,
      validLoss: 9.99e99,
      trainLossBest: false,
      validLossBest: true,
      trainValRatio: NaN,
      dur: 1e9,
    },
  ];
  const header = formatHeader(200000).split('\n');
  for (const record of records) {
    const row = formatRow(record, false, 200000);
    assert.equal(row.length, header[0].length, row);
    assert.deepEqual(bars(row), bars(header[0]), row);
    assert.deepEqual(bars(row), bars(header[1]), row);
  }
  assert.match(formatRow(records[0], false), /^ {4}1 \| 1\.23457e\+5\*\| 1\.0000e-12\*\| 1\.200e\+17 \|/);
  // The epoch column grows with the run's length, header and rows alike.
  assert.equal(formatHeader(200000).split('\n')[0].slice(0, 8), ' epoch |');
});

test("the net's messages go to its output only: the table, early stopping, loadParamsFrom", async () => {
  const { NeuralNet } = await import('../../../src/train/neural-net.js');
  const { EarlyStopping } = await import('../../../src/train/callbacks/index.js');
  const { blobData, tfjsEngine, tinySpec } = await import('../fixtures.js');
  const { X, y } = blobData(24, 3);
  let text = '';
  const output = { write: (t: string) => (text += t) };
  const printed: unknown[] = [];
  const originals = { log: console.log, write: process.stdout.write };
  console.log = (...args: unknown[]) => void printed.push(args);
  process.stdout.write = ((chunk: unknown) => (printed.push(chunk), true)) as typeof process.stdout.write;
  try {
    const net = new NeuralNet({
      layers: tinySpec(),
      engine: await tfjsEngine(),
      verbose: 1,
      output,
      maxEpochs: 30,
      // patience 0 with a frozen update: epoch 2 is no better than epoch 1, so early stopping speaks.
      updateLearningRate: 0,
      updateMomentum: 0,
      onEpochFinished: [new EarlyStopping({ patience: 0 })],
    });
    await net.fit(X, y);
    await new NeuralNet({
      layers: tinySpec(4),
      engine: await tfjsEngine(),
      verbose: 1,
      output,
    }).loadParamsFrom(net);
  } finally {
    console.log = originals.log;
    process.stdout.write = originals.write;
  }
  assert.deepEqual(printed, [], 'nothing printed by itself');
  assert.match(text, /epoch \| train loss/);
  assert.match(text, /Early stopping: best validLoss \d\.\d{6} at epoch 1\./);
  assert.match(text, /Loaded parameters to layer 'conv1'/);
  assert.match(text, /Could not load parameters to layer 'output'/);
});
