/**
 * Readers of landmark files that come with face images: the Udacity /
 * YouTube Faces CSV layout and iBUG / 300-W `.pts` files. Both give 68
 * points per image in the pixels of the original image.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataFormatError } from '../../errors.js';
import { checkInputFile } from '../../io/input-file.js';
import { ibug68 } from '../schemas.js';

/** Where a record's values were read, so a bad value can be named by file, line and column. */
export interface LandmarkOrigin {
  /** The landmark file (a CSV or a .pts file). */
  file: string;
  /** The CSV line of the record. */
  line?: number;
  /** For a .pts file: the line of each point. */
  pointLines?: number[];
}

/** Landmarks of one image: its file name and 68 points as x,y pairs (136 values, pixels). */
export interface LandmarkRecord {
  file: string;
  points: Float64Array;
  origin?: LandmarkOrigin;
}

/**
 * The place of value `index` (x0, y0, x1, ...) of a record, for an error:
 * the CSV's line and its column (named 0..135 in the Udacity header), or the
 * .pts file's line of that point and "x" or "y".
 */
export function placeOfValue(
  record: LandmarkRecord,
  index: number,
): { file: string; line?: number; column: string } {
  const origin = record.origin ?? { file: record.file };
  if (origin.pointLines) {
    return { file: origin.file, line: origin.pointLines[index >> 1], column: index % 2 ? 'y' : 'x' };
  }
  return { file: origin.file, line: origin.line, column: String(index) };
}

const VALUES = ibug68.columns.length;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function parseNumber(text: string, where: { file: string; line: number; column: string | number }): number {
  const t = text.trim();
  if (!NUMBER.test(t)) throw new DataFormatError(`"${t.slice(0, 40)}" is not a number`, where);
  const value = Number(t);
  if (!Number.isFinite(value)) throw new DataFormatError(`${t.slice(0, 40)} is too large a number`, where);
  return value;
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
  await checkInputFile(path, 'a landmark CSV file');
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
  const lineOfName = new Map<string, number>();
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
    const earlier = lineOfName.get(name);
    if (earlier !== undefined) {
      throw new DataFormatError(`image ${name} has landmarks twice (first on line ${earlier})`, {
        file,
        line,
        column: 1,
      });
    }
    lineOfName.set(name, line);
    const points = new Float64Array(VALUES);
    for (let i = 0; i < VALUES; i++) points[i] = parseNumber(cells[i + 1], { file, line, column: String(i) });
    records.push({ file: name, points, origin: { file, line } });
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
  return parsePtsLines(text, file).points;
}

/** `parsePts`, with the line of each point. */
function parsePtsLines(text: string, file: string): { points: Float64Array; lines: number[] } {
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
  const pointLines: number[] = [];
  for (let p = 0; p < n; p++) {
    const row = next();
    pointLines.push(l);
    if (row === undefined || row === '}') {
      throw new DataFormatError(`only ${p} points, expected ${n}`, { file, line: l });
    }
    const parts = row.split(/\s+/);
    if (parts.length !== 2) throw new DataFormatError(`expected "x y", found "${row}"`, { file, line: l });
    points[2 * p] = parseNumber(parts[0], { file, line: l, column: 'x' });
    points[2 * p + 1] = parseNumber(parts[1], { file, line: l, column: 'y' });
  }
  if (next() !== '}') throw new DataFormatError(`expected "}" after ${n} points`, { file, line: l });
  return { points, lines: pointLines };
}

/** Reads a `.pts` file. */
export async function readPts(path: string): Promise<Float64Array> {
  return (await readPtsRecord(path)).points;
}

/**
 * Reads a `.pts` file as a record named by the file, with the line of each point.
 *
 * @example
 * const { points, origin } = await readPtsRecord('300w/image_001.pts');
 */
export async function readPtsRecord(path: string): Promise<LandmarkRecord> {
  await checkInputFile(path, 'a .pts landmark file');
  const file = basename(path);
  const { points, lines } = parsePtsLines(await readFile(path, 'utf8'), file);
  return { file, points, origin: { file, pointLines: lines } };
}
