import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { TrainSplit } from '../../src/train/train-split.js';

test('holds out evalSize of the rows, seeded and repeatable', () => {
  const split = new TrainSplit({ evalSize: 0.2, seed: 5 });
  const a = split.split(100);
  assert.equal(a.valid.length, 20);
  assert.equal(a.train.length, 80);
  assert.deepEqual(
    [...a.train, ...a.valid].sort((p, q) => p - q),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(split.split(100), a);
  assert.notDeepEqual(new TrainSplit({ evalSize: 0.2, seed: 6 }).split(100).valid, a.valid);
  assert.deepEqual([...new TrainSplit({ evalSize: 0.2, shuffle: false }).split(10).valid], [0, 1]);
});

test('with groups no group is on both sides', () => {
  const groups = Array.from({ length: 120 }, (_, i) => `person${i % 17}`);
  const { train, valid } = new TrainSplit({ evalSize: 0.25, seed: 1 }).split(120, { groups });
  const trainGroups = new Set([...train].map((r) => groups[r]));
  const validGroups = new Set([...valid].map((r) => groups[r]));
  assert.ok(valid.length >= 30 && valid.length < 40, `valid has ${valid.length} rows`);
  for (const g of validGroups) assert.ok(!trainGroups.has(g), `${g} is on both sides`);
  assert.equal(train.length + valid.length, 120);
});

test('evalSize 0 means no validation; impossible splits are refused', () => {
  const { train, valid } = new TrainSplit({ evalSize: 0 }).split(7);
  assert.equal(train.length, 7);
  assert.equal(valid.length, 0);
  assert.throws(() => new TrainSplit({ evalSize: 1 }), ConfigError);
  assert.throws(() => new TrainSplit({ evalSize: 0.2 }).split(2), /leaves a side empty/);
  assert.throws(() => new TrainSplit().split(10, { groups: ['a'] }), /one group per row/);
});
