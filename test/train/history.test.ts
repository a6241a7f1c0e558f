import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import {
  historyFromJson,
  historyToJson,
  makeEpochRecord,
  type EpochRecord,
} from '../../src/train/history.js';

test('records number epochs and mark bests as nolearn does', () => {
  const history: EpochRecord[] = [];
  for (const [trainLoss, validLoss] of [
    [0.5, 0.4],
    [0.3, 0.45],
    [0.3, 0.2],
  ]) {
    history.push(makeEpochRecord(history, { trainLoss, validLoss, dur: 1 }));
  }
  assert.deepEqual(
    history.map((r) => [r.epoch, r.trainLossBest, r.validLossBest]),
    [
      [1, true, true],
      [2, true, false],
      [3, true, true],
    ],
  );
  assert.equal(history[0].trainValRatio, 0.5 / 0.4);
});

test('history survives JSON, NaN valid losses included', () => {
  const history: EpochRecord[] = [];
  history.push(makeEpochRecord(history, { trainLoss: 0.5, validLoss: NaN, dur: 1.25 }));
  history.push(makeEpochRecord(history, { trainLoss: 0.25, validLoss: NaN, dur: 1.5 }));
  assert.equal(history[1].validLossBest, false);
  const text = historyToJson(history);
  assert.ok(!text.includes('NaN'));
  assert.deepEqual(historyFromJson(text), history);
  assert.deepEqual(historyFromJson(JSON.parse(text)), history);
  assert.throws(() => historyFromJson('[{"epoch": 2}]'), ConfigError);
  assert.throws(() => historyFromJson('{}'), ConfigError);
});
