/**
 * Builds (once, into node_modules/.cache/facepoints-peers/, which
 * `node-gyp rebuild` does not wipe as it does build/) and runs the libtorch C++ peers of the
 * benchmark, one per bench net (libtorch-net2.cpp, libtorch-bnnet.cpp). Needs Debian's
 * libtorch-dev; never built by install or CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerResult {
  trainStepMs: number;
  /** CPU time of all threads per train step. */
  trainStepCpuMs: number;
  forwardMs: number;
  peakRssMb: number;
  threads: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const TORCH_INCLUDE = '/usr/include/torch/csrc/api/include';

function build(source: string, binary: string): string | undefined {
  if (existsSync(binary) && statSync(binary).mtimeMs > statSync(source).mtimeMs) return undefined;
  if (!existsSync(TORCH_INCLUDE))
    return `libtorch headers not found (${TORCH_INCLUDE}): apt-get install libtorch-dev`;
  mkdirSync(path.dirname(binary), { recursive: true });
  console.log('building the libtorch peer (about a minute)...');
  const result = spawnSync(
    'g++',
    [
      '-O2',
      '-std=c++17',
      source,
      '-o',
      binary,
      `-I${TORCH_INCLUDE}`,
      '-ltorch',
      '-ltorch_cpu',
      '-lc10',
      '-lpthread',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return result.status === 0 ? undefined : `g++ failed (exit ${result.status})`;
}

/** Times the peer; returns `{ error }` when it cannot be built or run here. */
export function runLibtorchPeer(options: {
  /** Which bench net (bench/nets.ts); default net2. */
  net?: string;
  steps: number;
  threads?: number;
}): PeerResult | { error: string } {
  const name = `libtorch-${options.net ?? 'net2'}`;
  const source = path.join(here, `${name}.cpp`);
  const binary = path.resolve(here, '..', '..', 'node_modules', '.cache', 'facepoints-peers', name);
  if (!existsSync(source)) return { error: `no libtorch peer for ${options.net} (${source})` };
  const error = build(source, binary);
  if (error) return { error };
  const run = spawnSync(binary, [String(options.steps), String(options.threads ?? 0)], { encoding: 'utf8' });
  const last = (run.stdout ?? '').trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{'))
    return { error: `peer exited ${run.status}: ${run.stderr?.trim()}` };
  return JSON.parse(last) as PeerResult;
}
