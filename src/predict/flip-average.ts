/**
 * Test-time flip averaging: predict each face and its mirror image, move the
 * mirror's predictions back (mirror the x coordinates, swap the left/right
 * pairs) and average the two. Nets trained with mirrored samples gain from it
 * for free; the rule used to mirror is the one the net was trained with.
 */
import { IMAGE_SIZE, type MirrorRule, mirrorTarget } from '../data/scaling.js';
import type { KeypointSchema } from '../data/schemas.js';
import { ConfigError } from '../errors.js';

/**
 * The schema's flip pairs as positions in `columns`, or undefined when the
 * columns are not closed under mirroring (a left point without its right
 * partner cannot be flip-averaged).
 *
 * @example
 * flipPairsOfColumns(kaggle15, kaggle15.columns); // kaggle15.columnFlipPairs
 */
export function flipPairsOfColumns(
  schema: KeypointSchema,
  columns: readonly string[],
): [number, number][] | undefined {
  const position = new Map(columns.map((c, i) => [c, i]));
  const pairs: [number, number][] = [];
  for (const [a, b] of schema.columnFlipPairs) {
    const pa = position.get(schema.columns[a]);
    const pb = position.get(schema.columns[b]);
    if ((pa === undefined) !== (pb === undefined)) return undefined;
    if (pa !== undefined && pb !== undefined) pairs.push([pa, pb]);
  }
  // Columns must come as x, y pairs for the x columns to be the even ones.
  for (let i = 0; i < columns.length; i++) {
    if (!columns[i].endsWith(i % 2 === 0 ? '_x' : '_y')) return undefined;
  }
  return pairs;
}

/** 96x96 frames mirrored left-right (a copy). */
export function mirrorImages(images: Float32Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let row = 0; row < images.length / IMAGE_SIZE; row++) {
    const base = row * IMAGE_SIZE;
    for (let x = 0; x < IMAGE_SIZE; x++) out[base + x] = images[base + IMAGE_SIZE - 1 - x];
  }
  return out;
}

/**
 * Averages predictions on the faces and on their mirror images (after moving
 * the latter back), in a new array.
 *
 * @example
 * const averaged = averageWithMirror(await predict(images), await predict(mirrorImages(images)), pairs, 'exact');
 */
export function averageWithMirror(
  direct: Float32Array,
  mirrored: Float32Array,
  columns: number,
  pairs: readonly (readonly [number, number])[],
  rule: MirrorRule,
): Float32Array {
  if (direct.length !== mirrored.length || direct.length % columns !== 0) {
    throw new ConfigError('averageWithMirror: the two predictions differ in size');
  }
  const out = new Float32Array(direct.length);
  const back = new Float32Array(columns);
  for (let r = 0; r < direct.length / columns; r++) {
    const base = r * columns;
    for (let c = 0; c < columns; c++) {
      const v = mirrored[base + c];
      back[c] = c % 2 === 0 ? mirrorTarget(v, rule) : v;
    }
    for (const [a, b] of pairs) {
      const t = back[a];
      back[a] = back[b];
      back[b] = t;
    }
    for (let c = 0; c < columns; c++) out[base + c] = (direct[base + c] + back[c]) / 2;
  }
  return out;
}
