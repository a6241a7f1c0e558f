/**
 * Typed errors. Each carries what a user needs to fix the input: the file,
 * line and column of bad data, the layer of a bad shape, the model file that
 * could not be read.
 */

/** Options every error takes: the error it stems from (an fs error, say), kept as `cause`. */
export interface ErrorOptions {
  cause?: unknown;
}

/**
 * Base class, so callers (the CLI above all) can tell our errors from bugs.
 *
 * @example
 * throw new ConfigError(`${path} is not readable: permission denied`, { cause: error });
 */
export class FacepointsError extends Error {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
  }
}

/** What a file-system error code says about its path, in words, by code. */
export const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'cannot be accessed: permission denied',
  EPERM: 'cannot be accessed: operation not permitted',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'cannot be reached: a part of its path is a file, not a folder',
  ELOOP: 'cannot be reached: too many symbolic links',
  ENAMETOOLONG: 'cannot be reached: the name is too long',
  ENOSPC: 'cannot be written: no space left on the device',
  EROFS: 'cannot be written: read-only file system',
};

/**
 * "does not exist", "cannot be accessed: permission denied", "is a folder,
 * expected a file", ...: what `error` (from node:fs) means for its path.
 */
export function fileProblem(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FILE_PROBLEMS[code]) return FILE_PROBLEMS[code];
  return `cannot be read (${error instanceof Error ? error.message : String(error)})`;
}

/**
 * A ConfigError naming `path` (and what it should be) with what the fs error
 * says, the fs error kept as its cause: ENOENT, EACCES and EISDIR read differently.
 *
 * @example
 * try { await readFile(path); } catch (error) { throw fileError(path, error, 'config file'); }
 */
export function fileError(path: string, error: unknown, what?: string): ConfigError {
  return new ConfigError(`${what ? `${what} ` : ''}${path} ${fileProblem(error)}`, { cause: error });
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

  constructor(
    detail: string,
    where: { file?: string; line?: number; column?: string | number } = {},
    options: ErrorOptions = {},
  ) {
    const place = [
      where.file,
      where.line !== undefined ? `line ${where.line}` : undefined,
      where.column !== undefined ? `column ${where.column}` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(place ? `${place}: ${detail}` : detail, options);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.detail = detail;
  }
}

/** A network spec whose shapes do not fit together; names the layer. */
export class ShapeError extends FacepointsError {
  readonly layer: string;
  constructor(layer: string, detail: string, options: ErrorOptions = {}) {
    super(`layer "${layer}": ${detail}`, options);
    this.layer = layer;
  }
}

/** A model or checkpoint file that cannot be read: truncated, corrupt, or of another format. */
export class ModelFileError extends FacepointsError {
  readonly file: string;
  constructor(file: string, detail: string, options: ErrorOptions = {}) {
    super(`${file}: ${detail}`, options);
    this.file = file;
  }
}

/** An engine that cannot run here (addon not built, backend missing). */
export class EngineUnavailableError extends FacepointsError {}

/** A bad option value passed to the library or the CLI. */
export class ConfigError extends FacepointsError {}
