/**
 * The data fingerprint of a run: which arrays the network was trained on, so
 * two runs can be compared (or a resumed run checked) without keeping the data.
 */
import { createHash } from 'node:crypto';

/** What a run records about its training data. */
export interface DataFingerprint {
  /** sha256 over the images then the targets, as little-endian float32 bytes (NaN targets included). */
  sha256: string;
  /** Number of rows trained on (after dropping incomplete rows, if that was asked). */
  count: number;
  /** Keypoint schema name, e.g. 'kaggle15'. */
  schema: string;
  /** Number of target columns per row. */
  columns: number;
  /** Rows whose every target is present. */
  completeRows: number;
  /** Where the data came from, as the user gave it (a path, or 'synthetic:COUNT'). */
  source?: string;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(array: Float32Array): Uint8Array {
  const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (LITTLE_ENDIAN) return view;
  // Hash the same bytes on every machine, so fingerprints compare across them.
  const copy = new Uint8Array(view.length);
  for (let i = 0; i < view.length; i += 4) {
    copy[i] = view[i + 3];
    copy[i + 1] = view[i + 2];
    copy[i + 2] = view[i + 1];
    copy[i + 3] = view[i];
  }
  return copy;
}

/**
 * Fingerprints training arrays.
 *
 * @example
 * const fp = fingerprintData({ images, targets, count, schema: 'kaggle15', source: 'training.csv' });
 * console.log(fp.sha256.slice(0, 12), fp.count);
 */
export function fingerprintData(data: {
  images: Float32Array;
  targets: Float32Array;
  count: number;
  schema: string;
  source?: string;
}): DataFingerprint {
  const columns = data.count > 0 ? data.targets.length / data.count : 0;
  let completeRows = 0;
  for (let row = 0; row < data.count; row++) {
    let complete = true;
    for (let c = 0; c < columns; c++) {
      if (Number.isNaN(data.targets[row * columns + c])) {
        complete = false;
        break;
      }
    }
    if (complete) completeRows++;
  }
  const hash = createHash('sha256');
  hash.update(bytesOf(data.images));
  hash.update(bytesOf(data.targets));
  return {
    sha256: hash.digest('hex'),
    count: data.count,
    schema: data.schema,
    columns,
    completeRows,
    ...(data.source !== undefined ? { source: data.source } : {}),
  };
}
