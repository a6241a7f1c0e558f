/**
 * Kaggle submissions: predictions for the test images, laid out through
 * Kaggle's `IdLookupTable.csv` (`RowId,ImageId,FeatureName,Location`) into a
 * `RowId,Location` CSV in the table's order.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError, DataFormatError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { checkInputFile } from '../io/input-file.js';
import { IMAGE_SIZE, unscaleTarget } from './scaling.js';
import { kaggle15 } from './schemas.js';

/** One row of the lookup table. */
export interface LookupRow {
  rowId: number;
  imageId: number;
  featureName: string;
  /** 1-based line in the file, for messages. */
  line: number;
}

/**
 * Reads `IdLookupTable.csv` (LF or CRLF), checking every field.
 *
 * @example
 * const rows = await readLookupTable('IdLookupTable.csv'); // 27124 rows
 */
export async function readLookupTable(path: string): Promise<LookupRow[]> {
  const file = basename(path);
  await checkInputFile(path, 'a lookup table CSV (RowId,ImageId,FeatureName,Location)');
  // A plain split: the table never quotes, and csv-parse took ~2.5 s on its 27124 rows here.
  const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, '');
  const records = text.split('\n').map((raw, i) => ({
    record: raw.replace(/\r$/, '').split(','),
    info: { lines: i + 1 },
  }));
  while (records.length > 0 && records[records.length - 1].record.join('') === '') records.pop();
  if (records.length === 0) throw new DataFormatError('empty file, expected a header', { file, line: 1 });
  const header = records[0].record.map((name) => name.trim());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new DataFormatError(
        `header has no "${name}" column (expected RowId,ImageId,FeatureName,Location)`,
        {
          file,
          line: 1,
        },
      );
    }
    return i;
  };
  const [rowIdCol, imageIdCol, featureCol] = [col('RowId'), col('ImageId'), col('FeatureName')];
  const rows: LookupRow[] = [];
  const lineOfRowId = new Map<number, number>();
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    if (record.length === 1 && record[0] === '') continue;
    // Kaggle's own table leaves the empty Location cell out entirely.
    const needed = Math.max(rowIdCol, imageIdCol, featureCol) + 1;
    if (record.length < needed || record.length > header.length) {
      throw new DataFormatError(`row has ${record.length} fields, expected ${needed} to ${header.length}`, {
        file,
        line,
      });
    }
    const integer = (i: number): number => {
      const text = record[i].trim();
      if (!/^\d+$/.test(text)) {
        throw new DataFormatError(`"${text}" is not a positive integer`, { file, line, column: header[i] });
      }
      return Number(text);
    };
    const rowId = integer(rowIdCol);
    const earlier = lineOfRowId.get(rowId);
    if (earlier !== undefined) {
      throw new DataFormatError(`RowId ${rowId} appears twice (first on line ${earlier})`, {
        file,
        line,
        column: 'RowId',
      });
    }
    lineOfRowId.set(rowId, line);
    rows.push({ rowId, imageId: integer(imageIdCol), featureName: record[featureCol].trim(), line });
  }
  if (rows.length === 0) throw new DataFormatError('no rows after the header', { file, line: 2 });
  return rows;
}

/** What `writeSubmission` needs. */
export interface SubmissionInput {
  /** Predicted targets, scaled to [-1, 1]: `imageIds.length * 30` values in kaggle15 column order. */
  predictions: Float32Array;
  /** Kaggle ImageId of each prediction row. */
  imageIds: number[];
  lookupTablePath: string;
  outPath: string;
}

/**
 * Writes a Kaggle submission (atomically): for each lookup row in order, the
 * predicted pixel coordinate of that image's feature, clipped to 0..96.
 * Refuses a lookup row whose feature or image is unknown, naming its line.
 * Returns the number of rows written.
 *
 * @example
 * await writeSubmission({ predictions, imageIds, lookupTablePath: 'IdLookupTable.csv', outPath: 'submission.csv' });
 */
export async function writeSubmission(input: SubmissionInput): Promise<number> {
  const columns = kaggle15.columns.length;
  const { predictions, imageIds } = input;
  if (predictions.length !== imageIds.length * columns) {
    throw new ConfigError(
      `predictions has ${predictions.length} values, expected ${imageIds.length} images x ${columns} columns`,
    );
  }
  const rowOfImage = new Map<number, number>();
  imageIds.forEach((id, row) => rowOfImage.set(id, row));
  const columnOf = new Map(kaggle15.columns.map((name, i) => [name, i]));
  const file = basename(input.lookupTablePath);
  const lines = ['RowId,Location'];
  for (const { rowId, imageId, featureName, line } of await readLookupTable(input.lookupTablePath)) {
    const column = columnOf.get(featureName);
    if (column === undefined) {
      throw new DataFormatError(`unknown feature "${featureName}" (expected one of the 30 Kaggle columns)`, {
        file,
        line,
        column: 'FeatureName',
      });
    }
    const row = rowOfImage.get(imageId);
    if (row === undefined) {
      throw new DataFormatError(`image ${imageId} has no prediction`, { file, line, column: 'ImageId' });
    }
    const value = predictions[row * columns + column];
    if (!Number.isFinite(value))
      throw new ConfigError(`prediction for image ${imageId} ${featureName} is ${value}`);
    const pixels = Math.min(IMAGE_SIZE, Math.max(0, unscaleTarget(value)));
    lines.push(`${rowId},${Math.round(pixels * 1e6) / 1e6}`);
  }
  await writeFileAtomic(input.outPath, lines.join('\n') + '\n');
  return lines.length - 1;
}
