/**
 * Node file access for model files. Writing is atomic (src/io/atomic-write.ts),
 * so a crash or Ctrl-C mid-write never leaves a half-written model where a
 * good one was.
 */
import { readFile } from 'node:fs/promises';

import { ModelFileError, fileProblem } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { parseModelFile, serializeModelFile, type ModelContent } from './model-file.js';

/**
 * Writes a model file atomically (temp file + fsync + rename).
 *
 * @example
 * await writeModelFile('runs/net4.fpm', content);
 */
export async function writeModelFile(path: string, content: ModelContent): Promise<void> {
  await writeFileAtomic(path, serializeModelFile(content));
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
    throw new ModelFileError(path, fileProblem(error), { cause: error });
  }
  return parseModelFile(bytes, path);
}
