/**
 * What `predict` writes for photos: one CSV row per face, or one JSON
 * document with every image and its faces. Coordinates are the upright
 * photo's pixels (pixel centres at integers, as everywhere in facepoints).
 */
import type { PhotoPrediction } from './predict-photo.js';

/** One image's result, as the writers take it. */
export interface PhotoResult {
  file: string;
  prediction: PhotoPrediction;
}

/** The CSV columns before the keypoint columns. */
export const PHOTO_CSV_COLUMNS = [
  'file',
  'face',
  'score',
  'box_x',
  'box_y',
  'box_width',
  'box_height',
] as const;

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function round(value: number, digits = 4): number {
  const k = 10 ** digits;
  return Math.round(value * k) / k;
}

/**
 * CSV text: a header, then a row per face (an image without faces has no row).
 *
 * @example
 * await writeFileAtomic('faces.csv', photoResultsCsv(results, model.columns));
 */
export function photoResultsCsv(results: readonly PhotoResult[], columns: readonly string[]): string {
  const lines = [[...PHOTO_CSV_COLUMNS, ...columns].join(',')];
  for (const { file, prediction } of results) {
    for (const f of prediction.faces) {
      lines.push(
        [
          csvCell(file),
          String(f.index),
          f.score === null ? '' : String(round(f.score)),
          ...[f.box.x, f.box.y, f.box.width, f.box.height].map((v) => String(round(v))),
          ...Array.from(f.points, (v) => String(round(v))),
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * JSON text: every image with its size and faces; each face's points by keypoint name, as [x, y].
 *
 * @example
 * const doc = JSON.parse(photoResultsJson(results, model.columns));
 * doc.images[0].faces[0].points.left_eye_center; // [x, y]
 */
export function photoResultsJson(results: readonly PhotoResult[], columns: readonly string[]): string {
  const names: string[] = [];
  for (let c = 0; c + 1 < columns.length; c += 2) names.push(columns[c].replace(/_x$/, ''));
  const images = results.map(({ file, prediction }) => ({
    file,
    width: prediction.width,
    height: prediction.height,
    faces: prediction.faces.map((f) => ({
      face: f.index,
      score: f.score === null ? null : round(f.score),
      box: { x: round(f.box.x), y: round(f.box.y), width: round(f.box.width), height: round(f.box.height) },
      crop: { x: round(f.crop.x), y: round(f.crop.y), size: round(f.crop.size) },
      points: Object.fromEntries(
        names.map((n, k) => [n, [round(f.points[2 * k]), round(f.points[2 * k + 1])]]),
      ),
    })),
  }));
  return `${JSON.stringify({ columns, images }, null, 2)}\n`;
}
