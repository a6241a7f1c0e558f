/**
 * The page of `facepoints serve` in a real Chromium: a generated face goes in
 * through the file input, and the points the page draws must be the points
 * facepoints computes in Node, to 1e-4 px; a screenshot must show them.
 * Also: a face box, the CSV download, the webcam path (Chromium's fake
 * camera), and a tfjs export loaded by URL in the page.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';

import { buildWeb } from '../../scripts/build-browser.mjs';
import {
  type CropBox,
  cropToFrame,
  decodeImage,
  pointsFromFrame,
  wholeImageBox,
} from '../../src/data/crop.js';
import { unscaleTarget } from '../../src/data/scaling.js';
import { kaggle15 } from '../../src/data/schemas.js';
import { generateFaces } from '../../src/data/synthetic-faces.js';
import { selectEngine } from '../../src/engine/select.js';
import { exportTfjs } from '../../src/export/tfjs-layers.js';
import { loadModel } from '../../src/predict/predictor.js';
import { type RunningServer, startServer } from '../../src/serve/server.js';
import type { ModelContent } from '../../src/train/model-file.js';
import { framePixels, tempDir, trainSmallModel } from '../cli/helpers.js';
import { randomInput, randomModel } from '../export/fixtures.js';
import { launchChromium, SKIP_BROWSER } from './chromium.js';

const skip = SKIP_BROWSER;
const POINT_TOLERANCE = 1e-4;

let browser: Browser;
let server: RunningServer;
let page: Page;
let modelPath: string;
let cleanup: () => Promise<void> = async () => {};

interface PageResult {
  image: string;
  faces: { box: CropBox; points: number[]; ms: number }[];
  msPerFace: number;
}

before(async () => {
  if (skip) return;
  const temp = await tempDir('page');
  cleanup = temp.cleanup;
  const web = await buildWeb(join(temp.dir, 'web'));
  modelPath = await trainSmallModel(join(temp.dir, 'run'), { faces: 300, epochs: 10 });
  server = await startServer({ model: modelPath, port: 0, webDir: web });
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(server.url);
  await page.evaluate(() => window.facepointsPage.ready);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await cleanup();
});

/** A generated face, 96x96 scaled to 192x192 by pixel repetition, as a gray PNG. */
async function facePng(seed: number): Promise<Buffer> {
  const faces = generateFaces({ count: 1, seed });
  return sharp(framePixels(faces, 0), { raw: { width: 96, height: 96, channels: 1 } })
    .resize(192, 192, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

/**
 * What facepoints predicts in Node for a picture and a box, in the picture's pixels, on the
 * engine the page runs (tfjs-wasm): the native engine sums in another order and differs by
 * ~1e-6 in target units, which a 2x picture makes 1.6e-4 px.
 */
async function nodePoints(png: Buffer, box?: CropBox): Promise<Float64Array> {
  const { net } = await loadModel(modelPath, { engine: 'tfjs' });
  try {
    const image = await decodeImage(png);
    const frame = cropToFrame(image, box ?? wholeImageBox(image.width, image.height));
    const outputs = await net.predict(frame);
    return pointsFromFrame(
      Array.from(outputs, unscaleTarget),
      box ?? wholeImageBox(image.width, image.height),
    );
  } finally {
    net.dispose();
  }
}

function assertPointsClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= tolerance, `largest difference ${worst} > ${tolerance}`);
}

async function waitForRun(previous: number): Promise<PageResult> {
  await page.waitForFunction((n) => window.facepointsPage.runs > n || window.facepointsPage.error, previous);
  const state = await page.evaluate(() => ({
    error: window.facepointsPage.error,
    result: window.facepointsPage.result,
  }));
  assert.equal(state.error, null);
  return state.result as PageResult;
}

const runs = () => page.evaluate(() => window.facepointsPage.runs);

test(
  'a photo picked in the page gets the points facepoints predicts in Node, drawn where they are',
  { skip },
  async () => {
    const png = await facePng(7);
    const before = await runs();
    await page.setInputFiles('#file', { name: 'face.png', mimeType: 'image/png', buffer: png });
    const result = await waitForRun(before);
    assert.equal(result.image, 'face.png');
    assert.equal(result.faces.length, 1);
    assert.deepEqual(result.faces[0].box, { x: 0, y: 0, size: 192 });
    const expected = await nodePoints(png);
    assertPointsClose(result.faces[0].points, expected, POINT_TOLERANCE);
    assert.match((await page.textContent('#status')) ?? '', /1 face, \d+\.\d ms per face \(tfjs-wasm\)/);

    // The screenshot shows a red mark on every predicted point and nothing red elsewhere (the photo is gray).
    const shot = await sharp(await page.locator('#view').screenshot())
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(shot.info.width, 192);
    const red: [number, number][] = [];
    for (let y = 0; y < shot.info.height; y++) {
      for (let x = 0; x < shot.info.width; x++) {
        const p = (y * shot.info.width + x) * 3;
        if (shot.data[p] > 170 && shot.data[p + 1] < 100 && shot.data[p] - shot.data[p + 2] > 60)
          red.push([x, y]);
      }
    }
    const points: [number, number][] = [];
    for (let i = 0; i < expected.length; i += 2) points.push([expected[i], expected[i + 1]]);
    const distance = (a: [number, number], b: [number, number]) => Math.hypot(a[0] - b[0], a[1] - b[1]);
    for (const point of points) {
      assert.ok(
        red.some((r) => distance(r, point) <= 1.5),
        `no red mark at predicted point (${point[0].toFixed(1)}, ${point[1].toFixed(1)})`,
      );
    }
    const stray = red.filter((r) => !points.some((point) => distance(r, point) <= 4));
    assert.deepEqual(stray, [], 'red pixels away from every predicted point');
  },
);

test(
  'a face box typed into the page crops the face the way Node does; the CSV download holds the points',
  { skip },
  async () => {
    const png = await facePng(8);
    await page.setInputFiles('#file', { name: 'second.png', mimeType: 'image/png', buffer: png });
    await waitForRun((await runs()) - 1);
    const box = { x: 20, y: 12.5, size: 150 };
    const before = await runs();
    await page.fill('#box', `${box.x},${box.y},${box.size}`);
    await page.dispatchEvent('#box', 'change');
    const result = await waitForRun(before);
    assert.deepEqual(result.faces[0].box, box);
    assertPointsClose(result.faces[0].points, await nodePoints(png, box), POINT_TOLERANCE);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    assert.equal(download.suggestedFilename(), 'second-keypoints.csv');
    const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 2);
    const header = lines[0].split(',');
    assert.deepEqual(header.slice(0, 7), [
      'image',
      'face',
      'box_x',
      'box_y',
      'box_size',
      ...kaggle15.columns.slice(0, 2),
    ]);
    const row = lines[1].split(',');
    assert.deepEqual(row.slice(0, 5), ['second.png', '0', '20', '12.5', '150']);
    assertPointsClose(row.slice(5).map(Number), result.faces[0].points, 1e-4);
    await page.fill('#box', '');
  },
);

test(
  'a photo dropped on the page is predicted; the JSON download names every keypoint',
  { skip },
  async () => {
    const png = await facePng(10);
    const before = await runs();
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return transfer;
    }, png.toString('base64'));
    await page.dispatchEvent('#drop', 'drop', { dataTransfer });
    const result = await waitForRun(before);
    assert.equal(result.image, 'dropped.png');
    assertPointsClose(result.faces[0].points, await nodePoints(png), POINT_TOLERANCE);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
    assert.equal(download.suggestedFilename(), 'dropped-keypoints.json');
    const json = JSON.parse(await readFile(await download.path(), 'utf8')) as {
      image: string;
      faces: { keypoints: { name: string; x: number; y: number }[] }[];
    };
    assert.equal(json.image, 'dropped.png');
    assert.deepEqual(
      json.faces[0].keypoints.map((k) => k.name),
      kaggle15.keypoints,
    );
    assertPointsClose(
      json.faces[0].keypoints.flatMap((k) => [k.x, k.y]),
      result.faces[0].points,
      1e-4,
    );
  },
);

test('the webcam path predicts video frames (Chromium fake camera)', { skip }, async () => {
  const before = await runs();
  await page.click('#webcam');
  await page.waitForFunction(
    (n) => window.facepointsPage.runs > n + 2 || window.facepointsPage.error,
    before,
  );
  const result = await page.evaluate(() => window.facepointsPage.result);
  await page.click('#webcam');
  assert.equal(await page.evaluate(() => window.facepointsPage.error), null);
  assert.equal(result!.image, 'webcam');
  assert.equal(result!.faces[0].points.length, 30);
  assert.ok(result!.faces[0].points.every(Number.isFinite));
  assert.match((await page.textContent('#webcam')) ?? '', /Use the webcam/);
});

test(
  'a tfjs export loads by URL in the page and predicts what facepoints predicts in Node, to 1e-5',
  { skip },
  async () => {
    const spec = {
      layers: [
        { kind: 'input' as const, shape: [1, 96, 96] },
        { kind: 'conv2d' as const, filters: 6, kernelSize: 3 },
        { kind: 'maxpool2d' as const, poolSize: 2 },
        { kind: 'conv2d' as const, filters: 8, kernelSize: 2 },
        { kind: 'maxpool2d' as const, poolSize: 2 },
        { kind: 'dense' as const, units: 30, activation: 'linear' as const },
      ],
    };
    const content: ModelContent = randomModel(spec, 4, { schema: 'kaggle15', columns: kaggle15.columns });
    const { modelJson, shards } = exportTfjs(content);
    await page.route('**/exported/**', async (route) => {
      const name = new URL(route.request().url()).pathname.split('/').pop()!;
      if (name === 'model.json')
        return route.fulfill({ contentType: 'application/json', body: JSON.stringify(modelJson) });
      const shard = shards.find((s) => s.name === name);
      return shard ? route.fulfill({ body: Buffer.from(shard.bytes) }) : route.fulfill({ status: 404 });
    });
    const x = randomInput(spec, 3, 2);
    const engine = await selectEngine('auto');
    const network = await engine.compile(spec);
    await network.setWeights(content.weights);
    const expected = await network.predict(x);
    network.dispose();
    const actual = await page.evaluate(async (values) => {
      const tf = window.facepointsPage.api.tf;
      const model = await tf.loadLayersModel('exported/model.json');
      const output = model.predict(tf.tensor4d(values, [3, 96, 96, 1])) as import('@tensorflow/tfjs').Tensor;
      const data = Array.from(await output.data());
      const backend = tf.getBackend();
      output.dispose();
      model.dispose();
      return { data, backend };
    }, Array.from(x));
    assert.equal(actual.backend, 'wasm');
    assertPointsClose(actual.data, expected, 1e-5);
  },
);

test(
  '?backend=webgl runs the model on tfjs-webgl (software WebGL here) with the same points to 1e-3 px',
  { skip },
  async () => {
    const webgl = await browser.newPage();
    try {
      await webgl.goto(`${server.url}?backend=webgl`);
      await webgl.evaluate(() => window.facepointsPage.ready);
      assert.match((await webgl.textContent('#model-info')) ?? '', /tfjs-webgl/);
      const png = await facePng(9);
      const result = await webgl.evaluate(
        (b64) =>
          window.facepointsPage.showBytes(
            Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)),
            'webgl.png',
          ),
        png.toString('base64'),
      );
      assertPointsClose(result.faces[0].points, await nodePoints(png), 1e-3);
    } finally {
      await webgl.close();
    }
  },
);
