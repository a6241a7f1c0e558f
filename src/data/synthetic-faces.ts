/**
 * Generated faces that ship with the project as code: seeded 96x96 grayscale
 * faces with exact keypoints in both schemas. They are the default data of
 * the demo and of tests, and hard enough that the tutorial's nets need many
 * epochs: faces vary in shape, expression (smile, open mouth, raised brows),
 * pose (yaw, roll, scale, position), lighting and noise, on cluttered
 * backgrounds, sometimes with hair or glasses.
 */
import { ConfigError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { PIXELS_PER_IMAGE, type KeypointDataset } from './dataset.js';
import { IMAGE_SIZE, scaleTarget } from './scaling.js';
import { getSchema, mapIbug68ToKaggle15, type SchemaName } from './schemas.js';
import { Canvas } from './synthetic/raster.js';
import { canonicalFace, posePoints, randomShape, type FacePose } from './synthetic/face-model.js';

/** Options of `generateFaces`. */
export interface GenerateFacesOptions {
  count: number;
  seed: number;
  /** Which keypoints the targets hold. Default 'kaggle15'. */
  schema?: SchemaName;
}

const LANDMARKS = 68;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** x,y values of the listed points. */
function pick(points: Float64Array, indices: number[]): number[] {
  return indices.flatMap((i) => [points[2 * i], points[2 * i + 1]]);
}

/** A pose that keeps all 68 landmarks inside the frame (shrinking the face until it fits). */
function randomPose(
  rng: Rng,
  canonical: { points: Float64Array; depth: Float64Array },
): {
  pose: FacePose;
  posed: Float64Array;
} {
  const pose: FacePose = {
    yaw: rng.uniform(-0.4, 0.4),
    roll: rng.normal(0, 0.14),
    scale: rng.uniform(22, 36),
    cx: IMAGE_SIZE / 2 - 0.5 + rng.uniform(-7, 7),
    cy: IMAGE_SIZE / 2 - 0.5 + rng.uniform(-6, 6),
  };
  const lo = 1;
  const hi = IMAGE_SIZE - 2;
  for (;;) {
    const posed = posePoints(canonical.points, canonical.depth, pose);
    let inside = true;
    for (let i = 0; i < 2 * LANDMARKS; i++) if (posed[i] < lo || posed[i] > hi) inside = false;
    if (inside) return { pose, posed };
    pose.scale *= 0.95;
    pose.cx += (IMAGE_SIZE / 2 - 0.5 - pose.cx) * 0.2;
    pose.cy += (IMAGE_SIZE / 2 - 0.5 - pose.cy) * 0.2;
  }
}

function drawBackground(canvas: Canvas, rng: Rng): void {
  const base = rng.uniform(0.1, 0.9);
  const gx = rng.uniform(-0.006, 0.006);
  const gy = rng.uniform(-0.006, 0.006);
  canvas.fillGradient(base, gx, gy);
  const clutter = rng.int(9);
  for (let k = 0; k < clutter; k++) {
    const tone = rng.uniform(0, 1);
    const alpha = rng.uniform(0.4, 1);
    const kind = rng.int(3);
    const x = rng.uniform(-10, IMAGE_SIZE + 10);
    const y = rng.uniform(-10, IMAGE_SIZE + 10);
    if (kind === 0) {
      canvas.fillEllipse(x, y, rng.uniform(3, 25), rng.uniform(3, 25), rng.uniform(0, Math.PI), tone, alpha);
    } else if (kind === 1) {
      const w = rng.uniform(4, 40);
      const h = rng.uniform(4, 40);
      canvas.fillPolygon([x, y, x + w, y, x + w, y + h, x, y + h], tone, alpha);
    } else {
      canvas.strokePolyline(
        [x, y, rng.uniform(0, IMAGE_SIZE), rng.uniform(0, IMAGE_SIZE)],
        rng.uniform(1, 5),
        tone,
        alpha,
      );
    }
  }
}

function drawFace(
  canvas: Canvas,
  rng: Rng,
  canonical: { points: Float64Array; depth: Float64Array },
  pose: FacePose,
  posed: Float64Array,
): void {
  const skin = rng.uniform(0.35, 0.85);
  // Light from one side: the face is brighter towards it.
  const lightAngle = rng.uniform(0, 2 * Math.PI);
  const lightStrength = rng.uniform(0, 0.35);
  const lx = Math.cos(lightAngle);
  const ly = Math.sin(lightAngle);
  const [fcx, fcy] = [pose.cx, pose.cy];
  const shade = (tone: number) => (x: number, y: number) =>
    tone * (1 + (lightStrength * ((x - fcx) * lx + (y - fcy) * ly)) / (pose.scale * 1.2));
  const s = pose.scale;
  const mapped = (x: number, y: number, depth = 0) => {
    const one = posePoints(Float64Array.of(x, y), Float64Array.of(depth), pose);
    return [one[0], one[1]];
  };

  // Clothes and neck, then the ears, hair behind, head.
  const clothes = rng.uniform(0.05, 0.95);
  canvas.fillPolygon(
    [...mapped(-2.2, 2.4), ...mapped(2.2, 2.4), ...mapped(2.6, 5), ...mapped(-2.6, 5)],
    clothes,
  );
  canvas.fillPolygon(
    [...mapped(-0.55, 1.0), ...mapped(0.55, 1.0), ...mapped(0.6, 2.8), ...mapped(-0.6, 2.8)],
    shade(skin * 0.85),
  );
  const hair = rng.next() < 0.75 ? rng.uniform(0.02, 0.9) : undefined;
  const forehead = range(68, 68 + 12);
  if (hair !== undefined) {
    const outline = pick(posed, [...range(0, 2), ...range(14, 16), ...forehead]);
    const grow = 1 + rng.uniform(0.05, 0.25);
    const [hx, hy] = mapped(0, -0.3);
    canvas.fillPolygon(
      outline.map((v, i) => (i % 2 === 0 ? hx + (v - hx) * grow : hy + (v - hy) * grow)),
      hair,
    );
  }
  for (const side of [-1, 1]) {
    const [ex, ey] = mapped(side * 1.06 * (canonical.points[32] / 1.02), 0.3, 0);
    canvas.fillEllipse(ex, ey, 0.12 * s, 0.25 * s, pose.roll, shade(skin * 0.9));
  }
  const head = pick(posed, [...range(0, 16), ...forehead]);
  canvas.fillPolygon(head, shade(skin));
  if (hair !== undefined && rng.next() < 0.8) {
    // A fringe: the top of the head down to a hairline.
    const line = rng.uniform(0.45, 0.8);
    const arc = forehead.map((i) => [
      canonical.points[2 * i],
      canonical.points[2 * i + 1],
      canonical.depth[i],
    ]);
    const inner = arc
      .slice()
      .reverse()
      .map(([x, y, d]) => mapped(x * 0.92, 0.04 + (y - 0.04) * line, d));
    canvas.fillPolygon([...arc.flatMap(([x, y, d]) => mapped(x, y, d)), ...inner.flat()], hair, 0.95);
  }

  // Brows.
  const browTone = Math.min(skin * rng.uniform(0.2, 0.6), hair ?? 1);
  const browWidth = s * rng.uniform(0.06, 0.12);
  canvas.strokePolyline(pick(posed, range(17, 21)), browWidth, browTone, 0.9);
  canvas.strokePolyline(pick(posed, range(22, 26)), browWidth, browTone, 0.9);

  // Eyes: white, iris clipped to the lids, pupil, lid line.
  const iris = rng.uniform(0.05, 0.45);
  for (const eye of [range(36, 41), range(42, 47)]) {
    const outline = pick(posed, eye);
    let cx = 0;
    let cy = 0;
    for (let k = 0; k < 6; k++) {
      cx += outline[2 * k] / 6;
      cy += outline[2 * k + 1] / 6;
    }
    canvas.fillPolygon(outline, Math.min(1, skin + rng.uniform(0.05, 0.3)));
    canvas.clipToPolygon(outline);
    canvas.fillEllipse(cx, cy, 0.11 * s, 0.11 * s, 0, iris, 1, true);
    canvas.fillEllipse(cx, cy, 0.045 * s, 0.045 * s, 0, 0.02, 0.9);
    canvas.strokePolyline(outline, Math.max(0.8, 0.035 * s), skin * 0.3, 0.8, true);
  }
  if (rng.next() < 0.15) {
    // Glasses: two rims and a bridge.
    const frame = rng.uniform(0, 0.3);
    for (const side of [-1, 1]) {
      const [gx, gy] = mapped(side * 0.5, 0.02, 0.5);
      canvas.fillEllipse(gx, gy, 0.3 * s, 0.22 * s, pose.roll, 0.9, 0.12);
      const rim = Array.from({ length: 16 }, (_, k) => {
        const a = (k / 16) * 2 * Math.PI;
        return mapped(side * 0.5 + 0.3 * Math.cos(a), 0.02 + 0.22 * Math.sin(a), 0.5);
      }).flat();
      canvas.strokePolyline(rim, Math.max(1, 0.05 * s), frame, 0.9, true);
    }
    canvas.strokePolyline(
      [...mapped(-0.2, -0.02, 0.6), ...mapped(0.2, -0.02, 0.6)],
      Math.max(1, 0.05 * s),
      frame,
      0.9,
    );
  }

  // Nose: bridge shadow, nostrils, base line, tip highlight.
  const side = pose.yaw >= 0 ? 1 : -1;
  const bridge = pick(posed, range(27, 30)).map((v, i) => (i % 2 === 0 ? v - side * 0.06 * s : v));
  canvas.strokePolyline(bridge, 0.08 * s, skin * 0.7, 0.35);
  canvas.strokePolyline(pick(posed, range(31, 35)), Math.max(0.8, 0.04 * s), skin * 0.45, 0.6);
  for (const k of [32, 34])
    canvas.fillEllipse(
      posed[2 * k],
      posed[2 * k + 1] - 0.02 * s,
      0.045 * s,
      0.03 * s,
      pose.roll,
      skin * 0.25,
      0.8,
    );
  canvas.fillEllipse(posed[60], posed[61], 0.07 * s, 0.06 * s, 0, Math.min(1, skin * 1.25), 0.35);

  // Mouth: lips, then the open mouth with teeth.
  const lip = skin * rng.uniform(0.5, 0.85);
  canvas.fillPolygon(pick(posed, range(48, 59)), lip);
  const inner = pick(posed, range(60, 67));
  canvas.fillPolygon(inner, 0.08, 0.95);
  if (posed[2 * 66 + 1] - posed[2 * 62 + 1] > 2 && rng.next() < 0.7) {
    canvas.clipToPolygon(inner);
    canvas.fillEllipse(posed[124], posed[125], 0.3 * s, 0.07 * s, pose.roll, rng.uniform(0.7, 0.95), 1, true);
  }
  canvas.strokePolyline(pick(posed, [48, ...range(60, 64), 54]), Math.max(0.8, 0.03 * s), skin * 0.3, 0.7);
}

/** Whole-image lighting, contrast and sensor noise. */
function finish(canvas: Canvas, rng: Rng, out: Float32Array, offset: number): void {
  const gain = rng.uniform(0.6, 1.3);
  const bias = rng.uniform(-0.15, 0.15);
  const gx = rng.uniform(-0.005, 0.005);
  const gy = rng.uniform(-0.005, 0.005);
  const sigma = rng.uniform(0.005, 0.06);
  // Uniform noise of standard deviation sigma: one draw per pixel keeps generation fast.
  const noise = sigma * Math.sqrt(12);
  const px = canvas.pixels;
  // A local xorshift seeded from the face's stream: 9216 draws per face, cheaper inline.
  let state = rng.nextUint32() | 1;
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const i = y * IMAGE_SIZE + x;
      const light = gain * (1 + gx * (x - IMAGE_SIZE / 2) + gy * (y - IMAGE_SIZE / 2));
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      let v = px[i] * light + bias + ((state >>> 0) / 4294967296 - 0.5) * noise;
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      // Kaggle-like 8-bit pixels.
      out[offset + i] = Math.round(v * 255) / 255;
    }
  }
}

/**
 * Generates `count` faces, the same ones for the same seed. Targets are the
 * exact keypoints of each face (in `schema`), scaled like Kaggle's; ids are
 * `synthetic-<seed>-<n>`; every face is its own group.
 *
 * @example
 * const demo = generateFaces({ count: 1000, seed: 1, schema: 'kaggle15' });
 */
export function generateFaces(options: GenerateFacesOptions): KeypointDataset {
  const { count, seed } = options;
  if (!(Number.isInteger(count) && count >= 0))
    throw new ConfigError(`count must be a whole number, got ${count}`);
  const schema = getSchema(options.schema ?? 'kaggle15');
  const width = schema.columns.length;
  const images = new Float32Array(count * PIXELS_PER_IMAGE);
  const targets = new Float32Array(count * width);
  const ids: string[] = [];
  const canvas = new Canvas(IMAGE_SIZE, IMAGE_SIZE);
  for (let n = 0; n < count; n++) {
    // One stream per face, so face n is the same whatever the count.
    const rng = new Rng(seed, 'synthetic-face', n);
    const canonical = canonicalFace(randomShape(rng));
    const { pose, posed } = randomPose(rng, canonical);
    drawBackground(canvas, rng);
    drawFace(canvas, rng, canonical, pose, posed);
    finish(canvas, rng, images, n * PIXELS_PER_IMAGE);
    const landmarks = posed.subarray(0, 2 * LANDMARKS);
    const kept = schema.name === 'kaggle15' ? mapIbug68ToKaggle15(landmarks) : landmarks;
    for (let c = 0; c < width; c++) targets[n * width + c] = scaleTarget(kept[c]);
    ids.push(`synthetic-${seed}-${n}`);
  }
  return { schema, count, images, targets, ids, groups: ids.slice() };
}
