/**
 * Atomic file output: every file facepoints writes (CSVs, PNGs, model files,
 * run records) goes to a temporary file in the target's folder and is renamed
 * into place only when complete and synced, so a crash, Ctrl-C or a full disk
 * never leaves a half-written file where a good one was.
 */
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempPathFor(path: string): string {
  const tag = `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${tag}.tmp`);
}

/**
 * Runs `write` on a handle to a temporary file next to `path`, then renames
 * it to `path`. The target's folder is created when missing, as a user naming
 * `--out results/train.csv` expects. On any error the temporary file is removed
 * and the error rethrown.
 *
 * @example
 * await writeAtomically('out.csv', async (file) => { await file.write('a,b\n'); });
 */
export async function writeAtomically(
  path: string,
  write: (file: FileHandle) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  const file = await open(temp, 'w');
  try {
    await write(file);
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Writes a whole buffer or string atomically.
 *
 * @example
 * await writeFileAtomic('sheet.png', pngBytes);
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeAtomically(path, async (file) => {
    await file.writeFile(data);
  });
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
