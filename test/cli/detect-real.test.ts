import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { landmarkRecords } from '../../src/data/import/import-landmarks.js';
import { BLAZEFACE_CALIBRATION } from '../../src/detect/blazeface-calibration.js';
import { loadBlazeFace } from '../../src/detect/blazeface-node.js';
import type { FaceBox, FaceDetector, RgbImage } from '../../src/detect/face-detector.js';
import { evaluateEndToEnd, predictorKeypointer } from '../../src/eval/end-to-end.js';
import { loadPredictor } from '../../src/predict/predictor.js';
import { SHARED_DATA } from '../shared-data.js';
import { runCli, tempDir } from './helpers.js';

const UDACITY = join(SHARED_DATA, 'udacity');
const present = existsSync(join(UDACITY, 'training_frames_keypoints.csv'));
const skipReason = `no Udacity data at ${UDACITY}`;

let root: string;
let cleanup: () => Promise<void>;
let model: string;
let testCsv: string;

/** The first `rows` rows of a landmark CSV, as a new CSV. */
async function headOf(csv: string, rows: number, out: string): Promise<string> {
  const lines = (await readFile(csv, 'utf8')).split('\n');
  await writeFile(out, `${lines.slice(0, rows + 1).join('\n')}\n`);
  return out;
}

before(async () => {
  ({ dir: root, cleanup } = await tempDir('detect-real'));
  if (!present) return;
  // A small 68-point net1 on 600 real training faces, crops jittered as the calibration's residual.
  const train = join(root, 'train.csv');
  const imported = await runCli(
    'import',
    join(UDACITY, 'training'),
    '--landmarks',
    await headOf(join(UDACITY, 'training_frames_keypoints.csv'), 600, join(root, 'train-landmarks.csv')),
    '--schema',
    'ibug68',
    '--jitter',
    '--jitter-shift',
    '0.053',
    '--jitter-scale',
    '0.127',
    '--out',
    train,
  );
  assert.equal(imported.code, 0, imported.stderr);
  const trained = await runCli(
    'train',
    'net1',
    '--data',
    train,
    '--epochs',
    '60',
    '--out',
    join(root, 'run'),
  );
  assert.equal(trained.code, 0, trained.stderr);
  model = join(root, 'run', 'model-best.fpm');
  testCsv = await headOf(join(UDACITY, 'test_frames_keypoints.csv'), 100, join(root, 'test-landmarks.csv'));
});
after(() => cleanup());

async function evaluateDetect(...extra: string[]) {
  const result = await runCli(
    'evaluate',
    model,
    join(UDACITY, 'test'),
    '--landmarks',
    testCsv,
    '--detect',
    ...extra,
  );
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** evaluate --detect with a detector wrapped by `change` (a broken one), on the first 40 test images. */
async function withDetector(change: (box: FaceBox, image: RgbImage) => FaceBox) {
  const blazeface = await loadBlazeFace();
  const broken: FaceDetector = {
    name: 'broken',
    async detect(image, options) {
      return (await blazeface.detect(image, options)).map((f) => ({ ...f, box: change(f.box, image) }));
    },
    dispose: () => blazeface.dispose(),
  };
  const predictor = await loadPredictor(model);
  try {
    const records = (await landmarkRecords({ csvPath: testCsv, imagesDir: join(UDACITY, 'test') })).slice(
      0,
      40,
    );
    return await evaluateEndToEnd({
      records,
      imagesDir: join(UDACITY, 'test'),
      schema: predictor.schema,
      keypointer: predictorKeypointer(predictor, { detector: broken }),
    });
  } finally {
    predictor.dispose();
    broken.dispose();
  }
}

test("evaluate --detect on real photos: nearly every face found, NME close to the landmark crops'; a crop off by half its size fails", async (t) => {
  if (!present) return t.skip(skipReason);
  // The same faces cropped by their own landmarks (no detector): the best a detector's crop can do with this net.
  const oracle = JSON.parse(
    (await runCli('evaluate', model, join(UDACITY, 'test'), '--landmarks', testCsv, '--json')).stdout,
  );
  const good = JSON.parse(await evaluateDetect('--json'));
  t.diagnostic(
    `landmark crops NME ${oracle.nme}; detector: rate ${good.detectionRate}, NME ${good.nme}, failures ${good.failureRate}`,
  );
  assert.equal(good.images, 100);
  assert.ok(good.detectionRate >= 0.95, `detection rate ${good.detectionRate}`);
  assert.ok(
    good.nme < 0.3 && good.nme < 1.3 * oracle.nme,
    `NME ${good.nme} vs ${oracle.nme} on landmark crops`,
  );

  // Every crop moved right by half its size.
  const shifted = join(root, 'shifted.json');
  const off = BLAZEFACE_CALIBRATION.offsetX + BLAZEFACE_CALIBRATION.scale / 2;
  await writeFile(shifted, JSON.stringify({ ...BLAZEFACE_CALIBRATION, offsetX: off }));
  const text = await evaluateDetect('--calibration', shifted);
  assert.match(text, /^images: 100$/m);
  assert.match(text, /^detected: \d+ \(\d+\.\d %; IoU > 0\.2 with the landmarks' box\)$/m);
  assert.match(text, /^failure rate \(NME > 0\.1\): \d+\.\d %$/m);
  const nme =
    Number(/^NME on detected faces: (\d+\.\d\d) % of the outer eye corners distance$/m.exec(text)?.[1]) / 100;
  t.diagnostic(`half a crop off: NME ${nme}`);
  assert.ok(nme > 2 * oracle.nme && nme > 0.3, `NME ${nme} with crops off by half`);
});

test('broken detectors fail the bounds: boxes a width to the right miss, whole-image boxes lose the NME', async (t) => {
  if (!present) return t.skip(skipReason);
  const moved = await withDetector((box) => ({ ...box, x: box.x + box.width }));
  t.diagnostic(`boxes moved by their width: detection rate ${moved.detectionRate}`);
  assert.ok(moved.detectionRate < 0.5, `detection rate ${moved.detectionRate}`);
  const whole = await withDetector((_box, image) => ({
    x: 0,
    y: 0,
    width: image.width,
    height: image.height,
  }));
  const right = await withDetector((box) => box);
  t.diagnostic(
    `whole-image boxes: rate ${whole.detectionRate}, NME ${whole.nme}; BlazeFace's: NME ${right.nme}`,
  );
  assert.ok(whole.nme === null || whole.nme > 1.5 * right.nme!, `NME ${whole.nme} vs ${right.nme}`);
});
