/**
 * Typed errors. Each carries what a user needs to fix the input: the file,
 * line and column of bad data, the layer of a bad shape, the model file that
 * could not be read.
 */

/** Base class, so callers (the CLI above all) can tell our errors from bugs. */
export class FacepointsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Bad data in a file: names the file and, where known, the 1-based line and
 * the column (a header name or a 1-based index).
 *
 * @example
 * throw new DataFormatError('Image has 9215 values, expected 9216', { file: 'training.csv', line: 12, column: 'Image' });
 */
export class DataFormatError extends FacepointsError {
  readonly file?: string;
  readonly line?: number;
  readonly column?: string | number;
  readonly detail: string;

  constructor(detail: string, where: { file?: string; line?: number; column?: string | number } = {}) {
    const place = [
      where.file,
      where.line !== undefined ? `line ${where.line}` : undefined,
      where.column !== undefined ? `column ${where.column}` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(place ? `${place}: ${detail}` : detail);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.detail = detail;
  }
}

/** A network spec whose shapes do not fit together; names the layer. */
export class ShapeError extends FacepointsError {
  readonly layer: string;
  constructor(layer: string, detail: string) {
    super(`layer "${layer}": ${detail}`);
    this.layer = layer;
  }
}

/** A model or checkpoint file that cannot be read: truncated, corrupt, or of another format. */
export class ModelFileError extends FacepointsError {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.file = file;
  }
}

/** An engine that cannot run here (addon not built, backend missing). */
export class EngineUnavailableError extends FacepointsError {}

/** A bad option value passed to the library or the CLI. */
export class ConfigError extends FacepointsError {}
