/**
 * Benchmark: how fast generateFaces draws 96x96 faces (the demo's and the
 * tests' data), in faces per second of CPU and of wall time, best of a few
 * rounds. Timing lives here, not in the unit tests.
 *
 *   node --import tsx bench/synthetic-faces.ts [--faces 1000] [--rounds 3]
 */
import { generateFaces } from '../src/data/synthetic-faces.js';

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const faces = argument('faces', 1000);
const rounds = argument('rounds', 3);
let bestWall = Infinity;
let bestCpu = Infinity;
for (let round = 0; round < rounds; round++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  generateFaces({ count: faces, seed: round + 1, schema: 'kaggle15' });
  bestWall = Math.min(bestWall, (performance.now() - started) / 1000);
  const used = process.cpuUsage(cpu);
  bestCpu = Math.min(bestCpu, (used.user + used.system) / 1e6);
}
console.log(
  `generateFaces: ${faces} faces in ${bestWall.toFixed(2)} s wall, ${bestCpu.toFixed(2)} s CPU ` +
    `(best of ${rounds}): ${Math.round(faces / bestWall)} faces/s`,
);
