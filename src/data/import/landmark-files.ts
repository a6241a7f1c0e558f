/**
 * Readers of landmark files that come with face images: the Udacity /
 * YouTube Faces CSV layout and iBUG / 300-W `.pts` files. Both give 68
 * points per image in the pixels of the original image.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataFormatError } from '../../errors.js';
import { ibug68 } from '../schemas.js';

/** Landmarks of one image: its file name and 68 points as x,y pairs (136 values, pixels). */
export interface LandmarkRecord {
  file: string;
  points: Float64Array;
}

const VALUES = ibug68.columns.length;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function parseNumber(text: string, where: { file: string; line: number; column: string | number }): number {
  const t = text.trim();
  if (!NUMBER.test(t)) throw new DataFormatError(`"${t.slice(0, 40)}" is not a number`, where);
  return Number(t);
}

/**
 * Reads a landmark CSV in the Udacity layout: a header `,0,1,...,135` (first
 * cell empty or a name), then per row the image's file name and
 * x0,y0,...,x67,y67 in pixels.
 *
 * @example
 * const records = await readLandmarkCsv('training_frames_keypoints.csv'); // 3075 records
 */
export async function readLandmarkCsv(path: string): Promise<LandmarkRecord[]> {
  const file = basename(path);
  const lines = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '').split('\n');
  const header = lines[0].replace(/\r$/, '').split(',');
  if (header.length !== VALUES + 1 || header.slice(1).some((name, i) => name.trim() !== String(i))) {
    throw new DataFormatError(
      `header must be ",0,1,...,${VALUES - 1}" (a name column, then ${VALUES} values)`,
      {
        file,
        line: 1,
      },
    );
  }
  const records: LandmarkRecord[] = [];
  for (let l = 1; l < lines.length; l++) {
    const text = lines[l].replace(/\r$/, '');
    if (text.trim() === '') continue;
    const cells = text.split(',');
    const line = l + 1;
    if (cells.length !== VALUES + 1) {
      throw new DataFormatError(
        `row has ${cells.length} fields, expected ${VALUES + 1} (file name + 68 x,y pairs)`,
        {
          file,
          line,
          column: cells.length < VALUES + 1 ? String(cells.length - 1) : cells.length + 1,
        },
      );
    }
    const name = cells[0].trim().replace(/^"(.*)"$/, '$1');
    if (name === '') throw new DataFormatError('empty image file name', { file, line, column: 1 });
    const points = new Float64Array(VALUES);
    for (let i = 0; i < VALUES; i++) points[i] = parseNumber(cells[i + 1], { file, line, column: String(i) });
    records.push({ file: name, points });
  }
  return records;
}

/**
 * Parses one iBUG / 300-W `.pts` file:
 * ```
 * version: 1
 * n_points: 68
 * {
 * x0 y0
 * ...
 * }
 * ```
 * Coordinates in .pts files are 1-based (Matlab); they are returned as
 * written, so callers that need 0-based pixels subtract 1 (the importer does).
 *
 * @example
 * const points = parsePts(await readFile('image_001.pts', 'utf8'), 'image_001.pts');
 */
export function parsePts(text: string, file: string): Float64Array {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '').trim());
  let l = 0;
  const next = () => {
    while (l < lines.length && lines[l] === '') l++;
    return l < lines.length ? lines[l++] : undefined;
  };
  const version = next();
  if (!version || !/^version:\s*1(\.0*)?$/.test(version)) {
    throw new DataFormatError(`expected "version: 1", found "${version ?? ''}"`, { file, line: l });
  }
  const count = next();
  const m = count ? /^n_points:\s*(\d+)$/.exec(count) : null;
  if (!m) throw new DataFormatError(`expected "n_points: 68", found "${count ?? ''}"`, { file, line: l });
  const n = Number(m[1]);
  if (n * 2 !== VALUES)
    throw new DataFormatError(`${n} points, expected 68 (the iBUG markup)`, { file, line: l });
  if (next() !== '{') throw new DataFormatError('expected "{" before the points', { file, line: l });
  const points = new Float64Array(VALUES);
  for (let p = 0; p < n; p++) {
    const row = next();
    if (row === undefined || row === '}') {
      throw new DataFormatError(`only ${p} points, expected ${n}`, { file, line: l });
    }
    const parts = row.split(/\s+/);
    if (parts.length !== 2) throw new DataFormatError(`expected "x y", found "${row}"`, { file, line: l });
    points[2 * p] = parseNumber(parts[0], { file, line: l, column: 'x' });
    points[2 * p + 1] = parseNumber(parts[1], { file, line: l, column: 'y' });
  }
  if (next() !== '}') throw new DataFormatError(`expected "}" after ${n} points`, { file, line: l });
  return points;
}

/** Reads a `.pts` file. */
export async function readPts(path: string): Promise<Float64Array> {
  return parsePts(await readFile(path, 'utf8'), basename(path));
}
