/**
 * What the benchmark's C++ programs share: each is built once with g++ into
 * node_modules/.cache/facepoints-peers/ (which `node-gyp rebuild` does not
 * wipe as it does build/), rebuilt when its source is newer, and run with
 * arguments; its last line of output is one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CACHE = path.resolve(here, '..', '..', 'node_modules', '.cache', 'facepoints-peers');

/**
 * Builds bench/peers/NAME.cpp (when needed) with `flags` around the source and runs it.
 *
 * @param before called once before a build, e.g. to say it takes a while
 * @example
 * const result = runCompiledPeer<{ gflops: number }>('peak-flops', { compile: ['-O3', '-mavx2'], args: ['2'] });
 */
export function runCompiledPeer<T>(
  name: string,
  options: { compile: string[]; link?: string[]; args: string[]; before?: () => void },
): T | { error: string } {
  const source = path.join(here, `${name}.cpp`);
  const binary = path.join(CACHE, name);
  if (!existsSync(source)) return { error: `no such peer program (${source})` };
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(CACHE, { recursive: true });
    options.before?.();
    const built = spawnSync('g++', [...options.compile, source, '-o', binary, ...(options.link ?? [])], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (built.status !== 0) return { error: `g++ failed (exit ${built.status})` };
  }
  const run = spawnSync(binary, options.args, { encoding: 'utf8' });
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{'))
    return { error: `exited ${run.status}: ${run.stderr?.trim()}` };
  return JSON.parse(last) as T;
}
