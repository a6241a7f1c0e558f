/**
 * Fits the face detector's crop calibration (detector box -> crop-rule box,
 * least squares) on labelled images, and prints it with its residual and the
 * crop jitter that matches the residual. The fit stored in
 * src/detect/blazeface-calibration.ts was made by
 *
 *   node --import tsx bench/calibrate-detector.ts ../shared/data/udacity/training ../shared/data/udacity/training_frames_keypoints.csv [--out calibration.json]
 *
 * (`predict --calibration` and `evaluate --detect --calibration` read the JSON).
 */
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { loadBlazeFace } from '../src/detect/blazeface-node.js';
import { calibrateDetector } from '../src/detect/calibrate.js';
import { matchingJitter } from '../src/detect/calibration.js';

const [imagesDir, csvPath] = process.argv.slice(2);
const outAt = process.argv.indexOf('--out');
if (!imagesDir || !csvPath) {
  console.error('usage: calibrate-detector.ts IMAGES_DIR LANDMARKS_CSV [--out calibration.json]');
  process.exit(1);
}
const detector = await loadBlazeFace();
const start = performance.now();
const { calibration, images, detected } = await calibrateDetector(detector, { imagesDir, csvPath });
const seconds = (performance.now() - start) / 1000;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
console.log(`${detector.name}: ${detected} of ${images} labelled faces detected (${seconds.toFixed(0)} s)`);
console.log(
  `crop centre = box centre + (${calibration.offsetX.toFixed(4)}, ${calibration.offsetY.toFixed(4)}) x s; crop size = ${calibration.scale.toFixed(4)} x s`,
);
console.log(
  `residual (RMS, of the crop size): centre x ${pct(calibration.residual.x)}, y ${pct(calibration.residual.y)}, size ${pct(calibration.residual.size)}`,
);
const jitter = matchingJitter(calibration);
console.log(
  `matching training jitter: import --jitter --jitter-shift ${jitter.shift} --jitter-scale ${jitter.scale}`,
);
if (outAt > 0) {
  await writeFileAtomic(process.argv[outAt + 1], `${JSON.stringify(calibration, null, 2)}\n`);
  console.log(`wrote ${process.argv[outAt + 1]}`);
}
detector.dispose();
