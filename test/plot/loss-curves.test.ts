import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import sharp from 'sharp';

import { ConfigError } from '../../src/errors.js';
import { lossCurvesSpec, renderLossCurvesSvg, writeLossCurves } from '../../src/plot/loss-curves.js';

function history(epochs: number, start: number) {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    trainLoss: start * Math.exp(-i / 10),
    validLoss: start * 1.2 * Math.exp(-i / 12),
  }));
}

/** The (run, split) of every drawn line, read from the SVG's aria labels. */
function drawnLines(svg: string): string[] {
  const lines = [
    ...svg.matchAll(
      /aria-label="epoch: 1; [^"]*run: ([^;"]+); split: (train|valid)"[^>]*aria-roledescription="line mark"/g,
    ),
  ];
  return lines.map((m) => `${m[1]} ${m[2]}`).sort();
}

test('one figure holds a train and a valid line per run, with a log y axis and a legend', async () => {
  const svg = await renderLossCurvesSvg(
    [
      { label: 'net1', history: history(40, 0.02) },
      { label: 'net2', history: history(25, 0.01) },
    ],
    { title: 'comparison' },
  );
  assert.match(svg, /^<svg/);
  assert.deepEqual(drawnLines(svg), ['net1 train', 'net1 valid', 'net2 train', 'net2 valid']);
  assert.match(svg, />comparison</);
  for (const label of ['net1', 'net2', 'train', 'valid', 'epoch'])
    assert.match(svg, new RegExp(`>${label}<`));
  const spec = lossCurvesSpec([{ label: 'a', history: history(3, 0.1) }]) as {
    encoding: { y: { scale: { type: string } } };
  };
  assert.equal(spec.encoding.y.scale.type, 'log');
});

test('losses a log axis cannot show (NaN valid loss, 0) are left out, the rest is drawn', async () => {
  const records = [
    { epoch: 1, trainLoss: 0.05, validLoss: Number.NaN },
    { epoch: 2, trainLoss: 0.03, validLoss: Number.NaN },
    { epoch: 3, trainLoss: 0, validLoss: Number.NaN },
  ];
  const svg = await renderLossCurvesSvg([{ label: 'no-valid', history: records }]);
  assert.deepEqual(drawnLines(svg), ['no-valid train']);
});

test('an empty history or duplicate labels are refused with a ConfigError', async () => {
  await assert.rejects(renderLossCurvesSvg([{ label: 'empty', history: [] }]), ConfigError);
  await assert.rejects(
    renderLossCurvesSvg([
      { label: 'same', history: history(3, 0.1) },
      { label: 'same', history: history(3, 0.1) },
    ]),
    /distinct/,
  );
});

test('writeLossCurves writes a valid SVG and a PNG twice its size, and no temp files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facepoints-plot-'));
  try {
    const svgPath = join(dir, 'loss.svg');
    const pngPath = join(dir, 'loss.png');
    await writeLossCurves([{ label: 'run', history: history(12, 0.05) }], { svgPath, pngPath });
    const svg = await readFile(svgPath, 'utf8');
    const width = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
    assert.ok(width > 600, `svg width ${width}`);
    const meta = await sharp(pngPath).metadata();
    assert.equal(meta.format, 'png');
    assert.equal(meta.width, width * 2);
    // A blank image would mean the SVG did not render: the lines must leave dark pixels.
    const stats = await sharp(pngPath).stats();
    assert.ok(stats.channels[0].min < 100, 'expected some dark pixels');
    assert.deepEqual((await readdir(dir)).sort(), ['loss.png', 'loss.svg']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the y axis names the run's loss: MSE by default, the one it trained with when given", () => {
  const title = (options?: { losses?: string[] }) =>
    (
      lossCurvesSpec([{ label: 'a', history: history(3, 0.1) }], options) as {
        encoding: { y: { title: string } };
      }
    ).encoding.y.title;
  assert.equal(title(), 'loss (MSE, scaled targets)');
  assert.equal(title({ losses: ['wing'] }), 'loss (wing, scaled targets)');
  assert.equal(title({ losses: ['mse', 'wing'] }), 'loss (MSE / wing, scaled targets)');
});
