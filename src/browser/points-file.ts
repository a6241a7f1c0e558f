/** Predicted faces as the files a page offers to download: JSON and CSV. */
import type { FacePrediction } from './keypoint-model.js';

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/**
 * One object per face: its box and every keypoint by name, in source pixels.
 *
 * @example
 * const blob = new Blob([pointsToJson(faces, 'photo.jpg')], { type: 'application/json' });
 */
export function pointsToJson(faces: readonly FacePrediction[], image = ''): string {
  const value = {
    image,
    faces: faces.map((face) => ({
      box: face.box,
      ms: round(face.ms),
      keypoints: face.keypoints.map((k) => ({ name: k.name, x: round(k.x), y: round(k.y) })),
    })),
  };
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A CSV with one row per face: image, face index, box, then `${keypoint}_x`, `${keypoint}_y` columns. */
export function pointsToCsv(faces: readonly FacePrediction[], image = ''): string {
  if (faces.length === 0) return 'image,face,box_x,box_y,box_size\n';
  const columns = faces[0].keypoints.flatMap((k) => [`${k.name}_x`, `${k.name}_y`]);
  const cell = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = [['image', 'face', 'box_x', 'box_y', 'box_size', ...columns].join(',')];
  faces.forEach((face, index) => {
    const values = face.keypoints.flatMap((k) => [round(k.x), round(k.y)]);
    lines.push(
      [cell(image), index, round(face.box.x), round(face.box.y), round(face.box.size), ...values].join(','),
    );
  });
  return `${lines.join('\n')}\n`;
}
