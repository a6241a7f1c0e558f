/**
 * Builds (once, compiled-peer.ts) and runs the libtorch C++ peers of the
 * benchmark, one per bench net (libtorch-net2.cpp, libtorch-bnnet.cpp). Needs Debian's
 * libtorch-dev; never built by install or CI.
 */
import { existsSync } from 'node:fs';

import { runCompiledPeer } from './compiled-peer.js';

export interface PeerResult {
  trainStepMs: number;
  /** CPU time of all threads per train step. */
  trainStepCpuMs: number;
  forwardMs: number;
  peakRssMb: number;
  threads: number;
}

const TORCH_INCLUDE = '/usr/include/torch/csrc/api/include';

/** Times the peer; returns `{ error }` when it cannot be built or run here. */
export function runLibtorchPeer(options: {
  /** Which bench net (bench/nets.ts); default net2. */
  net?: string;
  steps: number;
  threads?: number;
}): PeerResult | { error: string } {
  if (!existsSync(TORCH_INCLUDE))
    return { error: `libtorch headers not found (${TORCH_INCLUDE}): apt-get install libtorch-dev` };
  return runCompiledPeer<PeerResult>(`libtorch-${options.net ?? 'net2'}`, {
    compile: ['-O2', '-std=c++17', `-I${TORCH_INCLUDE}`],
    link: ['-ltorch', '-ltorch_cpu', '-lc10', '-lpthread'],
    args: [String(options.steps), String(options.threads ?? 0)],
    before: () => console.log('building the libtorch peer (about a minute)...'),
  });
}
