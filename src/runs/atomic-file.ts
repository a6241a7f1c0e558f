/**
 * Atomic file output: write to a temporary file in the same folder, then
 * rename it over the target. A reader (or a crash, or Ctrl-C) never sees a
 * half-written run record, curve or prediction file: the old file or the new
 * one, nothing in between.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` atomically, creating the folder if needed.
 *
 * @example
 * await writeFileAtomic('runs/a/history.json', JSON.stringify(history));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  // The temp name is hidden and random so two writers never share one, and it
  // stays in the same folder so the rename cannot cross file systems.
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes a value as pretty JSON (2-space indent, trailing newline), atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
