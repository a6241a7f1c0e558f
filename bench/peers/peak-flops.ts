/**
 * The machine's single-precision FMA peak in GFLOP/s with a given number of
 * threads (peak-flops.cpp), the ceiling any engine's training step is read against.
 */
import { runCompiledPeer } from './compiled-peer.js';

/** `{ gflops, threads }`, or `{ error }` when it cannot be built or run (no AVX2/FMA, no g++). */
export function measurePeakFlops(threads?: number): { gflops: number; threads: number } | { error: string } {
  return runCompiledPeer('peak-flops', {
    compile: ['-O3', '-mavx2', '-mfma', '-std=c++17'],
    link: ['-lpthread'],
    args: [String(threads ?? 0)],
  });
}
