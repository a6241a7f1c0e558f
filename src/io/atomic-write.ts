/**
 * Atomic file output: every file facepoints writes (CSVs, PNGs, model files,
 * run records) goes to a temporary file in the target's folder and is renamed
 * into place only when complete and synced, so a crash, Ctrl-C or a full disk
 * never leaves a half-written file where a good one was.
 */
import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { OutputError, makeFolder, outputErrorOf } from './output-error.js';

/** `.NAME.PID.TIME.RANDOM.tmp`: hidden, next to its target, naming the process that writes it. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-z]+\.[0-9a-z]+\.tmp$/;

function tempPathFor(path: string): string {
  const tag = `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${tag}.tmp`);
}

/** Whether a process of this id runs (a writer that may still finish its temp file). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files a killed writer left in `dir` (kill -9, a
 * second Ctrl-C or a power cut during a write): those of the targets in
 * `names` whose writing process is gone. Returns the names removed.
 *
 * @example
 * await removeStaleTempFiles('runs/net1', ['model-last.fpm', 'model-best.fpm']);
 */
export async function removeStaleTempFiles(dir: string, names: readonly string[]): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const match = TEMP_NAME.exec(entry);
    if (!match || !names.includes(match[1])) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && processIsAlive(pid)) continue;
    await unlink(join(dir, entry)).then(
      () => removed.push(entry),
      () => undefined,
    );
  }
  return removed;
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * Runs `write` on a handle to a temporary file next to `path`, then renames
 * it to `path`. The target's folder is created when missing, as a user naming
 * `--out results/train.csv` expects. On any error the temporary file is removed
 * and the error rethrown; a file-system error (full disk, read-only mount, a
 * folder named as the target) becomes an {@link OutputError} naming `path`.
 *
 * @param bytesNeeded the size of what is written, when known, for the message of a full disk
 *
 * @example
 * await writeAtomically('out.csv', async (file) => { await file.write('a,b\n'); });
 */
export async function writeAtomically(
  path: string,
  write: (file: FileHandle) => Promise<void>,
  bytesNeeded?: number,
): Promise<void> {
  await makeFolder(dirname(path));
  if (await isFolder(path))
    throw new OutputError(path, 'EISDIR', 'is a folder; expected a file name to write');
  const temp = tempPathFor(path);
  let file: FileHandle;
  try {
    file = await open(temp, 'w');
  } catch (error) {
    throw await outputErrorOf(error, path, bytesNeeded);
  }
  try {
    await write(file);
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw await outputErrorOf(error, path, bytesNeeded);
  }
}

/**
 * Writes a whole buffer or string atomically.
 *
 * @example
 * await writeFileAtomic('sheet.png', pngBytes);
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  await writeAtomically(
    path,
    async (file) => {
      await file.writeFile(data);
    },
    bytes,
  );
}

/**
 * Buffers text and flushes it to a file handle in large pieces, for writers
 * of big CSV files that should not build one huge string.
 */
export class ChunkedWriter {
  private parts: string[] = [];
  private size = 0;
  constructor(
    private readonly file: FileHandle,
    private readonly flushAt = 1 << 22,
  ) {}

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.flushAt) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await this.file.write(text);
  }
}
