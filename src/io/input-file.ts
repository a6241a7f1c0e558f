/**
 * Checks of an input file before it is read, so a wrong path is one clear
 * line (a folder where a file was expected, a missing file) instead of a
 * read error deep in a parser.
 */
import { stat } from 'node:fs/promises';

import { ConfigError } from '../errors.js';

/**
 * Throws unless `path` is a file that exists.
 *
 * @param what what the file should be, for the message: 'a CSV file', 'a landmark CSV'
 * @throws ConfigError naming the path: missing, or a folder
 * @example
 * await checkInputFile('test.csv', 'a Kaggle test CSV');
 */
export async function checkInputFile(path: string, what: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new ConfigError(`${path} does not exist (expected ${what})`);
    if (code === 'EACCES') throw new ConfigError(`${path}: permission denied (expected ${what})`);
    throw error;
  }
  if (info.isDirectory()) throw new ConfigError(`${path} is a folder, expected ${what}`);
  if (!info.isFile()) throw new ConfigError(`${path} is not a regular file, expected ${what}`);
}
