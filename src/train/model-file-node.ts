/**
 * Node file access for model files. Writing goes to a temporary file in the
 * same folder which is then renamed over the target, so a crash or Ctrl-C
 * mid-write never leaves a half-written model where a good one was.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFileError } from '../errors.js';
import { parseModelFile, serializeModelFile, type ModelContent } from './model-file.js';

/**
 * Writes a model file atomically (temp file + fsync + rename).
 *
 * @example
 * await writeModelFile('runs/net4.fpm', content);
 */
export async function writeModelFile(path: string, content: ModelContent): Promise<void> {
  const bytes = serializeModelFile(content);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Reads and checks a model file; never writes to it.
 *
 * @throws ModelFileError naming the file and what is wrong with it.
 * @example
 * const content = await readModelFile('runs/net4.fpm');
 */
export async function readModelFile(path: string): Promise<ModelContent> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelFileError(
      path,
      code === 'ENOENT' ? 'no such file' : `cannot read: ${(error as Error).message}`,
    );
  }
  return parseModelFile(bytes, path);
}
