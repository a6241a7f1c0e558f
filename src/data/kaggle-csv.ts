/**
 * Kaggle's CSV format: `training.csv` (the 30 coordinate columns, then
 * `Image`: 9216 space-separated integers 0..255, a 96x96 frame in row-major
 * order) and `test.csv` (`ImageId,Image`).
 *
 * The real training file is ~230 MB, so the reader streams bytes and parses
 * the `Image` field with a char-code loop instead of splitting strings; every
 * row is validated and any error names the file, line and column.
 *
 * Extensions (all optional, a plain Kaggle file never has them):
 * - the header may list the 136 columns of `ibug68` instead of Kaggle's 30;
 * - a file without the `Image` column reads as labels only (`images` empty);
 * - leading `Id` and `Group` columns carry the ids and identity groups of
 *   imported data through the file;
 * - a `Context` column after `Image` holds a wider crop of each face
 *   (S x S pixels, the 96x96 frame at its centre), which augmentation samples
 *   from (`facepoints import --context-size S`).
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { DataFormatError } from '../errors.js';
import { ChunkedWriter, writeAtomically } from '../io/atomic-write.js';
import { checkInputFile } from '../io/input-file.js';
import { checkDataset, PIXELS_PER_IMAGE, type KeypointDataset } from './dataset.js';
import { IMAGE_SIZE, PIXEL_MAX, coordinateRange, scaleTarget, unscaleTarget } from './scaling.js';
import { SCHEMA_NAMES, getSchema, type KeypointSchema } from './schemas.js';

const NEWLINE = 10;
const CR = 13;
const COMMA = 44;
const SPACE = 32;
const QUOTE = 34;
const DIGIT_0 = 48;

/** Options of `readKaggleCsv`. */
export interface ReadKaggleCsvOptions {
  /** Keep only rows with all targets present (the tutorial's way). Default false: missing targets stay NaN. */
  dropIncomplete?: boolean;
}

/** Where a line lies in its file, for error messages. */
interface Place {
  file: string;
  line: number;
}

/**
 * Yields the lines of a file as byte ranges, without the line ending (LF or
 * CRLF). A yielded view is valid only until the next iteration.
 */
async function* readLines(path: string): AsyncGenerator<Uint8Array> {
  let rest: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }) as AsyncIterable<Buffer>) {
    let start = 0;
    if (rest) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) {
        rest = Buffer.concat([rest, chunk]);
        continue;
      }
      yield trimCr(Buffer.concat([rest, chunk.subarray(0, nl)]));
      rest = undefined;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) break;
      yield trimCr(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) rest = Buffer.from(chunk.subarray(start));
  }
  if (rest && rest.length > 0) yield trimCr(rest);
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

/**
 * Start/end offsets of the comma-separated fields of a line. A field in double
 * quotes may hold commas; its offsets exclude the quotes (`fieldText` undoes "").
 */
function splitFields(line: Uint8Array): number[] {
  const bounds: number[] = [];
  let start = 0;
  for (;;) {
    if (line[start] === QUOTE) {
      let close = start + 1;
      for (;;) {
        close = line.indexOf(QUOTE, close);
        if (close < 0 || line[close + 1] !== QUOTE) break;
        close += 2;
      }
      if (close > 0 && (close + 1 === line.length || line[close + 1] === COMMA)) {
        bounds.push(start + 1, close);
        if (close + 1 === line.length) return bounds;
        start = close + 2;
        continue;
      }
    }
    let end = line.indexOf(COMMA, start);
    if (end < 0) end = line.length;
    bounds.push(start, end);
    if (end === line.length) return bounds;
    start = end + 1;
  }
}

function fieldText(line: Uint8Array, start: number, end: number): string {
  const text = Buffer.from(line.buffer, line.byteOffset + start, end - start).toString('utf8');
  return text.includes('""') ? text.replaceAll('""', '"') : text;
}

/** A non-blank line of a CSV file, its fields' offsets (`splitFields`) and where it is. */
interface CsvRecord {
  line: Uint8Array;
  bounds: number[];
  place: Place;
}

/**
 * Yields the non-blank lines of a CSV with their fields. Blank lines may only
 * end the file: one with data after it is an error naming the blank line.
 * A yielded line is valid only until the next iteration.
 */
async function* csvRecords(path: string): AsyncGenerator<CsvRecord> {
  const file = basename(path);
  let lineNo = 0;
  let blankLine = 0;
  for await (const line of readLines(path)) {
    lineNo++;
    if (line.length === 0) {
      blankLine ||= lineNo;
      continue;
    }
    if (blankLine) throw new DataFormatError('empty line inside the data', { file, line: blankLine });
    yield { line, bounds: splitFields(line), place: { file, line: lineNo } };
  }
}

/** The trimmed field texts of a header line. */
function headerNames({ line, bounds }: CsvRecord): string[] {
  const names: string[] = [];
  for (let f = 0; f < bounds.length; f += 2) names.push(fieldText(line, bounds[f], bounds[f + 1]).trim());
  return names;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const FRAME_RANGE = coordinateRange(IMAGE_SIZE);

/**
 * A decimal number of pixels in the 96x96 frame (a little outside allowed,
 * see `coordinateRange`), or NaN for an empty cell; anything else is a
 * DataFormatError.
 */
function parseCoordinate(text: string, place: Place, column: string): number {
  const trimmed = text.trim();
  if (trimmed === '') return NaN;
  if (!NUMBER.test(trimmed)) {
    throw new DataFormatError(`"${trimmed.slice(0, 40)}" is not a number`, { ...place, column });
  }
  const value = Number(trimmed);
  if (!(value >= FRAME_RANGE.min && value <= FRAME_RANGE.max)) {
    throw new DataFormatError(
      `coordinate ${trimmed.slice(0, 40)} is far outside the ${IMAGE_SIZE}x${IMAGE_SIZE} frame (expected pixels from ${FRAME_RANGE.min} to ${FRAME_RANGE.max})`,
      { ...place, column },
    );
  }
  return value;
}

/** Pixel value -> [0, 1], looked up rather than divided. */
const PIXEL_SCALE = Float32Array.from({ length: PIXEL_MAX + 1 }, (_, v) => v / PIXEL_MAX);

/** The error for a pixel over 255 (ending at byte `at`), or one pixel too many. */
function pixelError(
  line: Uint8Array,
  at: number,
  digits: number,
  count: number,
  place: Place,
  column: string,
  expected: number = PIXELS_PER_IMAGE,
): never {
  if (count === expected) {
    throw new DataFormatError(`more than ${expected} pixels, expected exactly ${expected}`, {
      ...place,
      column,
    });
  }
  const text = fieldText(line, at - digits, at);
  throw new DataFormatError(`pixel ${count + 1} is ${text}, expected an integer 0..${PIXEL_MAX}`, {
    ...place,
    column,
  });
}

/**
 * Parses the Image field (bytes start..end) into `out` at `offset`, scaled
 * to [0, 1]: exactly 9216 integers 0..255 separated by spaces. This loop is
 * the reader's hot path (65 million numbers in Kaggle's file), hence bytes
 * and char codes rather than strings.
 */
function parseImage(
  line: Uint8Array,
  start: number,
  end: number,
  out: Float32Array,
  offset: number,
  place: Place,
  column: string,
  expected: number = PIXELS_PER_IMAGE,
): void {
  let count = 0;
  let value = 0;
  let digits = 0;
  // One pass, one test per byte in the common case (a digit); no closures, so V8 keeps it all in registers.
  for (let i = start; i < end; i++) {
    const digit = line[i] - DIGIT_0;
    if (digit >>> 0 <= 9) {
      value = value * 10 + digit;
      digits++;
    } else if (digit === SPACE - DIGIT_0) {
      if (digits > 0) {
        if (value > PIXEL_MAX || count === expected)
          pixelError(line, i, digits, count, place, column, expected);
        out[offset + count++] = PIXEL_SCALE[value];
        value = 0;
        digits = 0;
      }
    } else {
      const text = JSON.stringify(String.fromCharCode(line[i]));
      throw new DataFormatError(
        `unexpected character ${text} in pixel ${count + 1}, expected integers 0..${PIXEL_MAX} separated by spaces`,
        { ...place, column },
      );
    }
  }
  if (digits > 0) {
    if (value > PIXEL_MAX || count === expected)
      pixelError(line, end, digits, count, place, column, expected);
    out[offset + count++] = PIXEL_SCALE[value];
  }
  if (count !== expected) {
    const side = Math.round(Math.sqrt(expected));
    throw new DataFormatError(`${count} pixels, expected ${expected} (a ${side}x${side} image)`, {
      ...place,
      column,
    });
  }
}

/** Number of space-separated values in bytes start..end (the first Context field sizes the rest). */
function countValues(line: Uint8Array, start: number, end: number): number {
  let count = 0;
  let inValue = false;
  for (let i = start; i < end; i++) {
    const space = line[i] === SPACE;
    if (!space && !inValue) count++;
    inValue = !space;
  }
  return count;
}

/** Layout of a training-format header. */
interface TrainingLayout {
  schema: KeypointSchema;
  hasId: boolean;
  hasGroup: boolean;
  hasImage: boolean;
  /** A `Context` column after `Image`: wider crops of the same faces (see `KeypointDataset.context`). */
  hasContext: boolean;
  names: string[];
}

function parseTrainingHeader(names: string[], file: string): TrainingLayout {
  let first = 0;
  const hasId = names[first] === 'Id';
  if (hasId) first++;
  const hasGroup = names[first] === 'Group';
  if (hasGroup) first++;
  const hasContext = names[names.length - 1] === 'Context' && names[names.length - 2] === 'Image';
  const imageAt = hasContext ? names.length - 2 : names.length - 1;
  const hasImage = names[imageAt] === 'Image';
  const coordinates = names.slice(first, hasImage ? imageAt : names.length);
  // The schema is the one whose first column matches; Kaggle's when none does, for the error message.
  const schema =
    SCHEMA_NAMES.map(getSchema).find(
      (s) => s.columns[0] === coordinates[0] && s.columns.length === coordinates.length,
    ) ??
    SCHEMA_NAMES.map(getSchema).find((s) => s.columns[0] === coordinates[0]) ??
    getSchema('kaggle15');
  for (let i = 0; i < Math.max(schema.columns.length, coordinates.length); i++) {
    if (coordinates[i] !== schema.columns[i]) {
      const found = coordinates[i] === undefined ? 'nothing' : `"${coordinates[i]}"`;
      const expected =
        schema.columns[i] === undefined
          ? hasImage
            ? '"Image" last'
            : 'no more columns'
          : `"${schema.columns[i]}"`;
      throw new DataFormatError(
        `header: expected ${expected}, found ${found} (the ${schema.columns.length} ${schema.name} coordinate columns in order, then Image)`,
        { file, line: 1, column: first + i + 1 },
      );
    }
  }
  return { schema, hasId, hasGroup, hasImage, hasContext, names };
}

/** Number of lines in a file (a last line without a newline counts). */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = NEWLINE;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }) as AsyncIterable<Buffer>) {
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === NEWLINE ? lines : lines + 1;
}

/**
 * Pixel storage sized once from the file's line count: a quick first pass
 * over the file costs less than growing (or copying) 260 MB of floats, and
 * keeps the peak memory at one copy of the images.
 */
class PixelRows {
  private data: Float32Array;
  rows = 0;

  constructor(
    capacity: number,
    readonly perRow: number = PIXELS_PER_IMAGE,
  ) {
    this.data = new Float32Array(capacity * perRow);
  }

  /** The array and offset where the next row goes. */
  slot(place: Place): { block: Float32Array; offset: number } {
    if ((this.rows + 1) * this.perRow > this.data.length) {
      throw new DataFormatError('more rows than lines counted: the file changed while being read', place);
    }
    return { block: this.data, offset: this.rows * this.perRow };
  }

  /** Pixels of the kept rows; copied only when rows were dropped or lines were blank. */
  toArray(): Float32Array {
    const used = this.rows * this.perRow;
    return used === this.data.length ? this.data : this.data.slice(0, used);
  }
}

/**
 * Reads a Kaggle `training.csv` (or a labels-only file without `Image`, or
 * the same layout written by `writeKaggleCsv`). Pixels are scaled to [0, 1],
 * coordinates to [-1, 1]; empty cells become NaN. Ids are the 1-based data
 * row numbers unless the file has an `Id` column.
 *
 * @example
 * const all = await readKaggleCsv('training.csv'); // 7049 rows, NaN where missing
 * const complete = await readKaggleCsv('training.csv', { dropIncomplete: true }); // 2140 rows
 */
export async function readKaggleCsv(
  path: string,
  options: ReadKaggleCsvOptions = {},
): Promise<KeypointDataset> {
  const file = basename(path);
  await checkInputFile(path, 'a Kaggle-format CSV file');
  let layout: TrainingLayout | undefined;
  let pixels: PixelRows | undefined;
  let context: PixelRows | undefined;
  let contextSize = 0;
  let capacity = 0;
  const targets: number[] = [];
  const ids: string[] = [];
  const groups: string[] = [];
  let dataRow = 0;
  for await (const record of csvRecords(path)) {
    const { line, bounds, place } = record;
    if (!layout) {
      layout = parseTrainingHeader(headerNames(record), file);
      if (layout.hasImage) {
        capacity = (await countLines(path)) - 1;
        pixels = new PixelRows(capacity);
      }
      continue;
    }
    dataRow++;
    const { names, schema } = layout;
    const fields = bounds.length / 2;
    if (fields !== names.length) {
      throw new DataFormatError(`row has ${fields} fields, expected ${names.length}`, {
        ...place,
        column: fields < names.length ? names[fields] : fields,
      });
    }
    let f = 0;
    const id = layout.hasId ? fieldText(line, bounds[0], bounds[1]) : String(dataRow);
    if (layout.hasId) f++;
    const group = layout.hasGroup ? fieldText(line, bounds[2 * f], bounds[2 * f + 1]) : '';
    if (layout.hasGroup) f++;
    const row = new Float64Array(schema.columns.length);
    let complete = true;
    for (let c = 0; c < row.length; c++, f++) {
      const value = parseCoordinate(fieldText(line, bounds[2 * f], bounds[2 * f + 1]), place, names[f]);
      row[c] = scaleTarget(value);
      if (Number.isNaN(value)) complete = false;
    }
    if (pixels) {
      const { block, offset } = pixels.slot(place);
      parseImage(line, bounds[2 * f], bounds[2 * f + 1], block, offset, place, 'Image');
      f++;
    }
    if (layout.hasContext) {
      if (!context) {
        const values = countValues(line, bounds[2 * f], bounds[2 * f + 1]);
        contextSize = Math.round(Math.sqrt(values));
        if (
          contextSize * contextSize !== values ||
          contextSize < IMAGE_SIZE ||
          (contextSize - IMAGE_SIZE) % 2
        ) {
          throw new DataFormatError(
            `${values} pixels: expected a square image at least ${IMAGE_SIZE} wide, with an even margin around the 96x96 frame`,
            { ...place, column: 'Context' },
          );
        }
        context = new PixelRows(capacity, values);
      }
      const { block, offset } = context.slot(place);
      parseImage(line, bounds[2 * f], bounds[2 * f + 1], block, offset, place, 'Context', context.perRow);
    }
    if (options.dropIncomplete && !complete) continue;
    if (pixels) pixels.rows++;
    if (context) context.rows++;
    for (const v of row) targets.push(v);
    ids.push(id);
    if (layout.hasGroup) groups.push(group);
  }
  if (!layout) throw new DataFormatError('empty file, expected a header line', { file, line: 1 });
  if (dataRow === 0) throw new DataFormatError('no data rows after the header', { file, line: 2 });
  return {
    schema: layout.schema,
    count: ids.length,
    images: pixels ? pixels.toArray() : new Float32Array(0),
    targets: Float32Array.from(targets),
    ids,
    ...(layout.hasGroup ? { groups } : {}),
    ...(context ? { context: { size: contextSize, images: context.toArray() } } : {}),
  };
}

/** What `readKaggleTestCsv` returns: the test images and their Kaggle ids. */
export interface KaggleTestImages {
  imageIds: number[];
  images: Float32Array;
  count: number;
}

/**
 * Reads Kaggle's `test.csv` (`ImageId,Image`).
 *
 * @example
 * const { imageIds, images, count } = await readKaggleTestCsv('test.csv'); // 1783 images
 */
export async function readKaggleTestCsv(path: string): Promise<KaggleTestImages> {
  const file = basename(path);
  await checkInputFile(path, 'a Kaggle test CSV file (ImageId,Image)');
  const pixels = new PixelRows(Math.max(0, (await countLines(path)) - 1));
  const imageIds: number[] = [];
  const lineOfId = new Map<number, number>();
  let header = false;
  for await (const record of csvRecords(path)) {
    const { line, bounds, place } = record;
    if (!header) {
      const names = headerNames(record);
      if (names.length !== 2 || names[0] !== 'ImageId' || names[1] !== 'Image') {
        throw new DataFormatError(
          `header is "${names.join(',').slice(0, 80)}", expected "ImageId,Image"`,
          place,
        );
      }
      header = true;
      continue;
    }
    if (bounds.length !== 4) {
      throw new DataFormatError(`row has ${bounds.length / 2} fields, expected 2 (ImageId,Image)`, {
        ...place,
        column: bounds.length < 4 ? 'Image' : 3,
      });
    }
    const idText = fieldText(line, bounds[0], bounds[1]).trim();
    if (!/^\d+$/.test(idText)) {
      throw new DataFormatError(`"${idText.slice(0, 40)}" is not an image id (a positive integer)`, {
        ...place,
        column: 'ImageId',
      });
    }
    const id = Number(idText);
    const earlier = lineOfId.get(id);
    if (earlier !== undefined) {
      throw new DataFormatError(`ImageId ${id} appears twice (first on line ${earlier})`, {
        ...place,
        column: 'ImageId',
      });
    }
    lineOfId.set(id, place.line);
    const { block, offset } = pixels.slot(place);
    parseImage(line, bounds[2], bounds[3], block, offset, place, 'Image');
    pixels.rows++;
    imageIds.push(id);
  }
  if (!header)
    throw new DataFormatError('empty file, expected the header "ImageId,Image"', { file, line: 1 });
  if (imageIds.length === 0) throw new DataFormatError('no images after the header', { file, line: 2 });
  return { imageIds, images: pixels.toArray(), count: imageIds.length };
}

/** Options of `writeKaggleCsv`. */
export interface WriteKaggleCsvOptions {
  /**
   * Write leading `Id` (and `Group`, when the dataset has groups) columns, so
   * ids and identities survive the file. Default: true when the dataset has
   * groups; a plain Kaggle file has neither.
   */
  includeIds?: boolean;
}

/** Writes a coordinate as Kaggle does: plain decimal, empty when missing. */
function formatCoordinate(target: number): string {
  if (Number.isNaN(target)) return '';
  return String(Math.round(unscaleTarget(target) * 1e4) / 1e4);
}

const PIXEL_TEXT = Array.from({ length: PIXEL_MAX + 1 }, (_, v) => String(v));

function formatImage(images: Float32Array, row: number, perRow: number = PIXELS_PER_IMAGE): string {
  const parts = new Array<string>(perRow);
  const base = row * perRow;
  for (let i = 0; i < perRow; i++) {
    const v = Math.round(images[base + i] * PIXEL_MAX);
    parts[i] = PIXEL_TEXT[v < 0 ? 0 : v > PIXEL_MAX ? PIXEL_MAX : v];
  }
  return parts.join(' ');
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes a dataset in Kaggle's training format (atomically): the schema's
 * coordinate columns in pixels, then `Image` when the dataset has images.
 * Pixels are rounded to integers 0..255, coordinates to 4 decimals.
 *
 * @example
 * await writeKaggleCsv('faces.csv', await importLandmarks({ csvPath, imagesDir, schema: 'kaggle15' }));
 */
export async function writeKaggleCsv(
  path: string,
  dataset: KeypointDataset,
  options: WriteKaggleCsvOptions = {},
): Promise<void> {
  checkDataset(dataset);
  const includeIds = options.includeIds ?? dataset.groups !== undefined;
  const withGroups = includeIds && dataset.groups !== undefined;
  const hasImages = dataset.images.length > 0;
  const width = dataset.schema.columns.length;
  const header = [
    ...(includeIds ? ['Id'] : []),
    ...(withGroups ? ['Group'] : []),
    ...dataset.schema.columns,
    ...(hasImages ? ['Image'] : []),
    ...(hasImages && dataset.context ? ['Context'] : []),
  ];
  await writeAtomically(path, async (handle) => {
    const out = new ChunkedWriter(handle);
    await out.write(header.join(',') + '\n');
    for (let r = 0; r < dataset.count; r++) {
      const cells: string[] = [];
      if (includeIds) cells.push(csvCell(dataset.ids[r]));
      if (withGroups) cells.push(csvCell(dataset.groups![r]));
      for (let c = 0; c < width; c++) cells.push(formatCoordinate(dataset.targets[r * width + c]));
      if (hasImages) cells.push(formatImage(dataset.images, r));
      if (hasImages && dataset.context) {
        cells.push(formatImage(dataset.context.images, r, dataset.context.size ** 2));
      }
      await out.write(cells.join(',') + '\n');
    }
    await out.flush();
  });
}
