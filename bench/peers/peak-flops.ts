/**
 * Builds (once, into node_modules/.cache/facepoints-peers/) and runs
 * peak-flops.cpp: the machine's single-precision FMA peak in GFLOP/s with a
 * given number of threads, the ceiling any engine's training step is read against.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** `{ gflops, threads }`, or `{ error }` when it cannot be built or run (no AVX2/FMA, no g++). */
export function measurePeakFlops(threads?: number): { gflops: number; threads: number } | { error: string } {
  const source = path.join(here, 'peak-flops.cpp');
  const binary = path.resolve(here, '..', '..', 'node_modules', '.cache', 'facepoints-peers', 'peak-flops');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(path.dirname(binary), { recursive: true });
    const built = spawnSync(
      'g++',
      ['-O3', '-mavx2', '-mfma', '-std=c++17', source, '-o', binary, '-lpthread'],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    if (built.status !== 0) return { error: `g++ failed (exit ${built.status})` };
  }
  const run = spawnSync(binary, [String(threads ?? 0)], { encoding: 'utf8' });
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{'))
    return { error: `exited ${run.status}: ${run.stderr?.trim()}` };
  return JSON.parse(last) as { gflops: number; threads: number };
}
