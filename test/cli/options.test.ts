import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InvalidArgumentError } from 'commander';

import {
  parseBox,
  parseFraction,
  parsePositiveInt,
  parseSchedule,
  parseSeed,
} from '../../src/cli/options.js';
import { figurePaths } from '../../src/cli/plot.js';
import { wholeImageBox } from '../../src/cli/predict.js';

test('schedules are START or START:STOP', () => {
  assert.deepEqual(parseSchedule('0.03:0.0001'), { start: 0.03, stop: 0.0001 });
  assert.deepEqual(parseSchedule('0.01'), { start: 0.01, stop: 0.01 });
  for (const bad of ['', 'fast', '0.1:', '1:2:3', '-1'])
    assert.throws(() => parseSchedule(bad), InvalidArgumentError, bad);
});

test('numbers, boxes and fractions are checked', () => {
  assert.equal(parsePositiveInt('12'), 12);
  for (const bad of ['0', '-3', '1.5', 'x', ''])
    assert.throws(() => parsePositiveInt(bad), InvalidArgumentError, bad);
  assert.equal(parseSeed('0'), 0);
  assert.throws(() => parseSeed('4294967296'), InvalidArgumentError);
  assert.deepEqual(parseBox('10,20.5,96'), { x: 10, y: 20.5, size: 96 });
  for (const bad of ['1,2', '1,2,0', 'a,b,c']) assert.throws(() => parseBox(bad), InvalidArgumentError, bad);
  assert.equal(parseFraction('0'), 0);
  assert.throws(() => parseFraction('1'), InvalidArgumentError);
});

test('the whole-image box is the square around the image, centred', () => {
  assert.deepEqual(wholeImageBox(200, 100), { x: 0, y: -50, size: 200 });
  assert.deepEqual(wholeImageBox(96, 96), { x: 0, y: 0, size: 96 });
});

test('plot --out names both figures', () => {
  assert.deepEqual(figurePaths('a/curves.png'), { pngPath: 'a/curves.png', svgPath: 'a/curves.svg' });
  assert.deepEqual(figurePaths('curves.SVG'), { pngPath: 'curves.png', svgPath: 'curves.svg' });
  assert.deepEqual(figurePaths('curves'), { pngPath: 'curves.png', svgPath: 'curves.svg' });
});
