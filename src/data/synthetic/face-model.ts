/**
 * A parametric face: the 68 iBUG points (and a few outline points that are
 * not landmarks: forehead, ears, neck) built from identity and expression
 * parameters in a canonical frame, then posed (yaw, roll, scale, position)
 * into image pixels.
 *
 * Canonical frame: the eye centres are at (-0.5, 0) (subject's right, image
 * left) and (0.5, 0), y grows downwards, units of inter-ocular distance. The
 * model is mirror-symmetric: with all asymmetric parameters at zero a face
 * equals its own mirror image, so flipped faces come from the same model.
 */
import type { Rng } from '../../random/rng.js';

/** Shape of one face: identity and expression. */
export interface FaceShape {
  faceWidth: number;
  chinLength: number;
  eyeWidth: number;
  eyeOpen: number;
  browHeight: number;
  browRaise: number;
  noseLength: number;
  mouthWidth: number;
  lipThickness: number;
  smile: number;
  mouthOpen: number;
}

/** Draws a face shape: ranges chosen so faces vary as much as real ones do, and then some. */
export function randomShape(rng: Rng): FaceShape {
  return {
    faceWidth: rng.uniform(0.88, 1.12),
    chinLength: rng.uniform(0.88, 1.12),
    eyeWidth: rng.uniform(0.85, 1.15),
    eyeOpen: rng.uniform(0.55, 1.35),
    browHeight: rng.uniform(-0.05, 0.06),
    browRaise: rng.next() < 0.3 ? rng.uniform(0, 0.14) : 0,
    noseLength: rng.uniform(0.88, 1.12),
    mouthWidth: rng.uniform(0.85, 1.2),
    lipThickness: rng.uniform(0.7, 1.3),
    smile: rng.next() < 0.4 ? rng.uniform(0, 1) : rng.uniform(-0.3, 0.2),
    mouthOpen: rng.next() < 0.35 ? rng.uniform(0.05, 1) : 0,
  };
}

/** Number of outline points appended after the 68 landmarks. */
export const FOREHEAD_POINTS = 13;

/** Canonical points: 68 landmarks, then the forehead arc; and each point's depth (for yaw). */
export function canonicalFace(f: FaceShape): { points: Float64Array; depth: Float64Array } {
  const p = new Float64Array(2 * (68 + FOREHEAD_POINTS));
  const z = new Float64Array(68 + FOREHEAD_POINTS);
  const set = (i: number, x: number, y: number, depth: number) => {
    p[2 * i] = x;
    p[2 * i + 1] = y;
    z[i] = depth;
  };
  /** Sets a point on the subject's right (negative x) and its mirror. */
  const pair = (right: number, left: number, x: number, y: number, depth: number) => {
    set(right, -Math.abs(x), y, depth);
    set(left, Math.abs(x), y, depth);
  };
  const open = f.mouthOpen * 0.28;
  // Jaw: a superellipse from the ears (0, 16) to the chin (8); the chin drops when the mouth opens.
  const W = 1.02 * f.faceWidth;
  const top = 0.04;
  const H = 1.6 * f.chinLength + open * 0.7;
  for (let k = 0; k <= 8; k++) {
    const t = (k / 8) * (Math.PI / 2);
    const x = W * Math.pow(Math.cos(t), 0.8);
    const y = top + H * Math.pow(Math.sin(t), 1.25);
    const depth = 0.1 + 0.6 * Math.sin(t);
    if (k === 8) set(8, 0, y, depth);
    else pair(k, 16 - k, x, y, depth);
  }
  // Brows: 17 (outer) .. 21 (inner) and mirrors 26 .. 22.
  const lift = f.browHeight + f.browRaise;
  const brow: [number, number][] = [
    [0.92, -0.24],
    [0.77, -0.34],
    [0.6, -0.38],
    [0.42, -0.36],
    [0.24, -0.3],
  ];
  brow.forEach(([x, y], k) =>
    pair(17 + k, 26 - k, x * (0.9 + 0.1 * f.faceWidth), y - lift - f.browRaise * 0.3 * (1 - k / 4), 0.55),
  );
  // Nose: bridge 27-30 (30 = tip), base 31-35.
  const nl = f.noseLength;
  set(27, 0, 0.02, 0.6);
  set(28, 0, 0.24 * nl, 0.75);
  set(29, 0, 0.46 * nl, 0.88);
  set(30, 0, 0.68 * nl, 1.0);
  pair(31, 35, 0.2, 0.76 * nl, 0.7);
  pair(32, 34, 0.1, 0.8 * nl, 0.8);
  set(33, 0, 0.82 * nl, 0.85);
  // Eyes: right eye 36 (outer corner) .. 41, left eye 42 (inner corner) .. 47.
  const hw = 0.21 * f.eyeWidth;
  const up = 0.085 * f.eyeOpen;
  const down = 0.065 * f.eyeOpen;
  pair(36, 45, 0.5 + hw, 0.01, 0.35);
  pair(37, 44, 0.5 + 0.45 * hw, -up, 0.45);
  pair(38, 43, 0.5 - 0.45 * hw, -up, 0.45);
  pair(39, 42, 0.5 - hw, 0.01, 0.45);
  pair(40, 47, 0.5 - 0.45 * hw, down, 0.45);
  pair(41, 46, 0.5 + 0.45 * hw, down, 0.45);
  // Mouth: outer lip 48-59, inner lip 60-67; a smile lifts and widens the corners.
  const my = 0.98 * nl + 0.08;
  const mw = 0.42 * f.mouthWidth + 0.04 * f.smile;
  const cornerY = my - 0.07 * f.smile;
  const lt = f.lipThickness;
  const sag = 0.03 * Math.max(0, f.smile);
  pair(48, 54, mw, cornerY, 0.55);
  pair(49, 53, 0.6 * mw, my - 0.09 * lt, 0.68);
  pair(50, 52, 0.2 * mw, my - 0.11 * lt, 0.72);
  set(51, 0, my - 0.095 * lt, 0.72);
  pair(59, 55, 0.6 * mw, my + 0.11 * lt + open * 0.9 + sag, 0.66);
  pair(58, 56, 0.2 * mw, my + 0.14 * lt + open + sag, 0.7);
  set(57, 0, my + 0.14 * lt + open + sag, 0.7);
  pair(60, 64, 0.85 * mw, cornerY, 0.55);
  pair(61, 63, 0.35 * mw, my - 0.02, 0.68);
  set(62, 0, my - 0.02, 0.7);
  pair(67, 65, 0.35 * mw, my + 0.005 + open * 0.85 + sag * 0.5, 0.66);
  set(66, 0, my + 0.005 + open + sag * 0.5, 0.68);
  // Forehead arc from the left temple over the top to the right temple (closes the head outline).
  for (let k = 0; k < FOREHEAD_POINTS; k++) {
    const phi = (k / (FOREHEAD_POINTS - 1)) * Math.PI;
    set(68 + k, W * Math.cos(phi), top - 1.15 * f.chinLength * Math.sin(phi), 0.5 * Math.sin(phi));
  }
  return { points: p, depth: z };
}

/** Where and how a face sits in the image. */
export interface FacePose {
  /** Turn about the vertical axis, radians (positive turns the nose towards the image's right). */
  yaw: number;
  /** In-plane rotation, radians. */
  roll: number;
  /** Pixels per inter-ocular distance. */
  scale: number;
  /** Image position of the canonical point (0, 0.6), between the eyes and the mouth. */
  cx: number;
  cy: number;
}

/** Canonical point (x, y, depth) -> image pixels under a pose. */
export function posePoint(x: number, y: number, depth: number, pose: FacePose): [number, number] {
  const xs = x * Math.cos(pose.yaw) + depth * Math.sin(pose.yaw);
  const dx = xs * pose.scale;
  const dy = (y - 0.6) * pose.scale;
  const c = Math.cos(pose.roll);
  const s = Math.sin(pose.roll);
  return [pose.cx + dx * c - dy * s, pose.cy + dx * s + dy * c];
}

/** Poses all canonical points. */
export function posePoints(points: Float64Array, depth: Float64Array, pose: FacePose): Float64Array {
  const out = new Float64Array(points.length);
  for (let i = 0; i < depth.length; i++) {
    const [x, y] = posePoint(points[2 * i], points[2 * i + 1], depth[i], pose);
    out[2 * i] = x;
    out[2 * i + 1] = y;
  }
  return out;
}
