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
