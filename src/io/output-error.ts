/**
 * File-system failures of facepoints' own outputs, as errors a user can act
 * on: they name the file the user asked for (never an internal temp file)
 * and, for a full disk, the space the write needed and the space left.
 */
import { access, constants, mkdir, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { FacepointsError } from '../errors.js';

/** Writing an output failed for a reason outside facepoints (a full disk, a read-only mount, a folder in the way). */
export class OutputError extends FacepointsError {
  /** The output the user asked for. */
  readonly path: string;
  /** The file-system error code (ENOSPC, EROFS, EISDIR, ...). */
  readonly code: string;
  /** What went wrong, without the path. */
  readonly detail: string;
  /** For a full disk: bytes the write needed and bytes free on the device, where known. */
  readonly bytesNeeded?: number;
  readonly bytesFree?: number;

  constructor(
    path: string,
    code: string,
    detail: string,
    space: { needed?: number; free?: number } = {},
    /** What to do about it, after the detail. */
    hint?: string,
  ) {
    super(`${path}: ${detail}${hint ? `: ${hint}` : ''}`);
    this.detail = detail;
    this.path = path;
    this.code = code;
    this.bytesNeeded = space.needed;
    this.bytesFree = space.free;
  }
}

/** Error codes of a device without room: no blocks (ENOSPC) or over the user's quota (EDQUOT). */
const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** Whether `error` is a full disk, raw or already turned into an OutputError. */
export function isDiskFull(error: unknown): boolean {
  return FULL.has(String((error as NodeJS.ErrnoException | undefined)?.code));
}

/** "7.1 MB", "512 kB", "90 B". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}

async function freeBytes(path: string): Promise<number | undefined> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      const s = await statfs(dir);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(dir) === dir) return undefined;
    }
  }
}

/**
 * The OutputError for a failed write of `path`, or `error` itself when it is
 * not a file-system error a user causes.
 *
 * @param bytesNeeded size of what was being written, when known
 * @example
 * try { await writeFile(temp, data); } catch (e) { throw await outputErrorOf(e, 'model.fpm', data.length); }
 */
export async function outputErrorOf(error: unknown, path: string, bytesNeeded?: number): Promise<unknown> {
  if (error instanceof FacepointsError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return error;
  if (FULL.has(code)) {
    const free = await freeBytes(dirname(path));
    const space = [
      bytesNeeded !== undefined ? `writing it needs ${formatBytes(bytesNeeded)}` : undefined,
      free !== undefined ? `${formatBytes(free)} free` : undefined,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    return new OutputError(
      path,
      code,
      `no space left on the device${space ? ` (${space})` : ''}`,
      { needed: bytesNeeded, free },
      'free some space and try again',
    );
  }
  const details: Record<string, string> = {
    EROFS: 'cannot write: the file system is read-only',
    EACCES: 'cannot write: permission denied',
    EPERM: 'cannot write: operation not permitted',
    EISDIR: 'is a folder; expected a file name to write',
    ENOTDIR: 'cannot write: a part of the path is a file, not a folder',
  };
  return details[code] ? new OutputError(path, code, details[code]) : error;
}

/**
 * Why the folder `dir` cannot be made: Node's recursive mkdir reports a
 * read-only or forbidden parent as ENOENT, so the nearest existing parent is
 * asked whether it can be written.
 */
async function mkdirError(error: unknown, dir: string): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    for (let parent = dirname(resolve(dir)); ; parent = dirname(parent)) {
      try {
        await access(parent, constants.F_OK);
      } catch {
        if (dirname(parent) === parent) break;
        continue;
      }
      try {
        await access(parent, constants.W_OK);
      } catch (cause) {
        return outputErrorOf(cause, dir);
      }
      break;
    }
  }
  return outputErrorOf(error, dir);
}

/**
 * Makes a folder and its parents, as `mkdir -p` does; a failure is an
 * OutputError naming the folder and the real cause (read-only, forbidden, full).
 *
 * @example
 * await makeFolder('runs/net1');
 */
export async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw await mkdirError(error, dir);
  }
}
