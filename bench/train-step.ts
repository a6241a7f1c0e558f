/**
 * Training-speed benchmark: net2 and bnnet (bench/nets.ts; batch 128, 96x96,
 * random data) on every engine it can run, each in its own child process so
 * peak memory is the engine's own. Prints a table per net, then one JSON line
 * (the last line: net2's figures at the top level, bnnet's under `nets`).
 *
 *   npm run bench                                  # net2: native + tfjs-wasm; bnnet: native
 *   npm run bench -- --engines native --steps 20   # native only
 *   npm run bench -- --peer libtorch               # adds the C++ libtorch peers (bench/peers/)
 *   npm run bench -- --nets bnnet --peer libtorch  # one net
 *   FACEPOINTS_NATIVE_PROFILE=1 npm run bench -- --engines native   # per-primitive times on stderr
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { Engine, Network } from '../src/engine/engine.js';
import { initWeights } from '../src/nn/init.js';
import { Rng } from '../src/random/rng.js';
import { BENCH_NETS, benchSpec, forwardFlops, type BenchNet } from './nets.js';
import { runLibtorchPeer } from './peers/libtorch-peer.js';
import { measurePeakFlops } from './peers/peak-flops.js';

const BATCH = 128;
const EPOCH_IMAGES = 3075;
const OUTPUTS = 30;

interface EngineResult {
  engine: string;
  trainStepMs: number;
  trainStepRangeMs: [number, number];
  trainStepCpuMs: number;
  forwardMs: number;
  forwardRangeMs: [number, number];
  imagesPerSecond: number;
  secondsPerEpoch: number;
  peakRssMb: number;
  steps: number;
  threads?: number;
  firstLoss?: number;
  lastLoss?: number;
}

interface PeerFigures {
  trainStepMs: number;
  trainStepCpuMs?: number;
  forwardMs?: number;
  peakRssMb?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function openEngine(name: string, threads: number | undefined): Promise<Engine> {
  if (name === 'native') {
    const { loadNativeEngine } = await import('../src/engine/native/native-engine.js');
    return loadNativeEngine({ threads });
  }
  const { createTfjsEngine } = await import('../src/engine/tfjs/tfjs-engine.js');
  return createTfjsEngine({ backend: name === 'tfjs-cpu' ? 'cpu' : 'wasm' });
}

/** Runs in the child: times `steps` train steps and forward passes on one engine. */
async function measure(
  net: BenchNet,
  engineName: string,
  steps: number,
  threads: number | undefined,
): Promise<EngineResult> {
  const engine = await openEngine(engineName, threads);
  const spec = benchSpec(net, OUTPUTS);
  const network: Network = await engine.compile(spec, { threads });
  await network.setWeights(initWeights(network.spec, 1));
  const rng = new Rng(2, 'bench');
  const x = new Float32Array(BATCH * network.spec.inputSize).map(() => rng.next());
  const y = new Float32Array(BATCH * OUTPUTS).map(() => rng.uniform(-1, 1));
  const hyper = { learningRate: 0.01, momentum: 0.9 };
  // The first call of each kind builds plans (native) or compiles kernels (tfjs): not timed.
  const firstLoss = await network.trainStep(x, y, { ...hyper, dropoutSeed: 0 });
  let lastLoss = firstLoss;
  const stepTimes: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 1; i <= steps; i++) {
    const start = performance.now();
    lastLoss = await network.trainStep(x, y, { ...hyper, dropoutSeed: i });
    stepTimes.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuStart);
  await network.predict(x);
  const forwardTimes: number[] = [];
  for (let i = 0; i < Math.max(steps, 3); i++) {
    const start = performance.now();
    await network.predict(x);
    forwardTimes.push(performance.now() - start);
  }
  const trainStepMs = median(stepTimes);
  const threadsUsed =
    'threadsInUse' in network
      ? await (network as { threadsInUse(): Promise<number> }).threadsInUse()
      : undefined;
  if (process.env.FACEPOINTS_NATIVE_PROFILE && 'describe' in network) {
    console.error(await (network as { describe(): Promise<string> }).describe());
  }
  network.dispose();
  return {
    engine: engine.name,
    trainStepMs: round(trainStepMs),
    trainStepRangeMs: [round(Math.min(...stepTimes)), round(Math.max(...stepTimes))],
    // CPU time of all threads per step: less sensitive than wall time to other jobs on a shared machine.
    trainStepCpuMs: round((cpu.user + cpu.system) / 1000 / steps),
    forwardMs: round(median(forwardTimes)),
    forwardRangeMs: [round(Math.min(...forwardTimes)), round(Math.max(...forwardTimes))],
    imagesPerSecond: round((BATCH * 1000) / trainStepMs),
    secondsPerEpoch: round((EPOCH_IMAGES / BATCH) * (trainStepMs / 1000)),
    // maxRSS is in KiB.
    peakRssMb: round(process.resourceUsage().maxRSS / 1024),
    steps,
    threads: threadsUsed,
    firstLoss,
    lastLoss,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function runChild(
  net: BenchNet,
  engine: string,
  steps: number,
  threads: number | undefined,
): EngineResult | undefined {
  const args = [
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--child',
    engine,
    '--net',
    net,
    '--steps',
    String(steps),
  ];
  if (threads !== undefined) args.push('--threads', String(threads));
  const child = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const lines = (child.stdout ?? '').trim().split('\n');
  if (child.status !== 0) {
    console.log(`${engine}: not run (${lines[lines.length - 1] || `exit ${child.status}`})`);
    return undefined;
  }
  return JSON.parse(lines[lines.length - 1]) as EngineResult;
}

function printRow(r: EngineResult): void {
  console.log(
    `${r.engine.padEnd(10)} train step ${r.trainStepMs.toFixed(1).padStart(8)} ms ` +
      `(${r.trainStepRangeMs[0]}-${r.trainStepRangeMs[1]}, ${r.steps} steps, cpu ${r.trainStepCpuMs} ms)  ` +
      `forward ${r.forwardMs.toFixed(1).padStart(7)} ms  ${r.imagesPerSecond.toFixed(0).padStart(5)} img/s  ` +
      `${r.secondsPerEpoch.toFixed(1).padStart(6)} s/epoch (${EPOCH_IMAGES} img)  peak RSS ${r.peakRssMb.toFixed(0)} MB` +
      (r.threads ? `  threads ${r.threads}` : ''),
  );
}

interface NetSummary {
  [key: string]: unknown;
}

/** Runs one net's engines and peer for all rounds; prints its rows and returns its summary. */
function benchNet(
  net: BenchNet,
  engines: string[],
  options: { steps: number; tfjsSteps: number; threads?: number; peer?: string; rounds: number },
): NetSummary {
  const { rounds, threads } = options;
  const gflop = forwardFlops(benchSpec(net, OUTPUTS)) / 1e9;
  console.log(
    `${net}, batch ${BATCH}, 96x96 random data, ${gflop.toFixed(3)} GFLOP per image forward; ` +
      'medians over timed steps after one warm-up step',
  );
  // On a shared machine the load drifts: with --rounds N every engine runs N times, interleaved, each
  // engine's least disturbed round is reported, and speed-ups are the median of the per-round ratios.
  const perEngine = new Map<string, EngineResult[]>();
  const peerRounds = new Map<string, PeerFigures[]>();
  const ratioRounds = new Map<string, number[]>();
  const cpuRatioRounds = new Map<string, number[]>();
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`round ${round} of ${rounds}`);
    const peers: Record<string, PeerFigures> = {};
    let native: EngineResult | undefined;
    for (const engine of engines) {
      const steps = engine.startsWith('tfjs') ? options.tfjsSteps : options.steps;
      const result = runChild(net, engine, steps, threads);
      if (!result) continue;
      printRow(result);
      perEngine.set(result.engine, [...(perEngine.get(result.engine) ?? []), result]);
      if (result.engine === 'native') native = result;
      else peers[result.engine] = result;
    }
    if (options.peer === 'libtorch') {
      const peer = runLibtorchPeer({ net, steps: options.steps, threads });
      if ('error' in peer) console.log(`libtorch: not run (${peer.error})`);
      else {
        peers.libtorch = peer;
        console.log(
          `libtorch   train step ${peer.trainStepMs.toFixed(1).padStart(8)} ms (cpu ${peer.trainStepCpuMs} ms)  forward ${peer.forwardMs.toFixed(1)} ms  ` +
            `peak RSS ${peer.peakRssMb.toFixed(0)} MB  (C++, Debian libtorch, ${peer.threads} threads)`,
        );
      }
    }
    for (const [name, peer] of Object.entries(peers)) {
      peerRounds.set(name, [...(peerRounds.get(name) ?? []), peer]);
      if (native) {
        ratioRounds.set(name, [...(ratioRounds.get(name) ?? []), peer.trainStepMs / native.trainStepMs]);
        if (peer.trainStepCpuMs) {
          const ratio = peer.trainStepCpuMs / native.trainStepCpuMs;
          cpuRatioRounds.set(name, [...(cpuRatioRounds.get(name) ?? []), ratio]);
        }
      }
    }
  }
  const fastest = <T extends PeerFigures>(list: T[]): T =>
    list.reduce((a, b) => (b.trainStepMs < a.trainStepMs ? b : a));
  const peers: Record<string, PeerFigures> = {};
  for (const [name, list] of peerRounds) peers[name] = fastest(list);
  const ratios: Record<string, number> = {};
  const cpuRatios: Record<string, number> = {};
  for (const [name, list] of ratioRounds) {
    ratios[name] = round(median(list));
    const cpu = cpuRatioRounds.get(name);
    if (cpu) cpuRatios[name] = round(median(cpu));
    console.log(
      `${net}: native is ${ratios[name]}x faster per train step than ${name}` +
        (cpu ? ` (${cpuRatios[name]}x less CPU time)` : '') +
        (rounds > 1 ? ' (median of rounds)' : ''),
    );
  }
  const nativeRuns = perEngine.get('native');
  let sustained: Record<string, number> = {};
  if (nativeRuns) {
    // Forward, backward to the inputs and backward to the weights: about 3x the forward FLOPs per image.
    const best = fastest(nativeRuns);
    const gflops = (3 * gflop * BATCH) / (best.trainStepMs / 1000);
    const peak = measurePeakFlops(best.threads);
    sustained = { trainGflopsPerSecond: round(gflops) };
    if ('error' in peak)
      console.log(
        `${net}: native sustains ${gflops.toFixed(0)} GFLOP/s (machine peak not measured: ${peak.error})`,
      );
    else {
      sustained.peakGflopsPerSecond = round(peak.gflops);
      console.log(
        `${net}: native sustains ${gflops.toFixed(0)} GFLOP/s training (3 x forward FLOPs), ` +
          `${((100 * gflops) / peak.gflops).toFixed(0)} % of this machine's FMA peak of ${peak.gflops.toFixed(0)} GFLOP/s on ${peak.threads} threads (bench/peers/peak-flops.cpp)`,
      );
    }
  }
  return nativeRuns
    ? {
        net,
        gflopPerImageForward: round(gflop * 1000) / 1000,
        ...fastest(nativeRuns),
        rounds,
        trainStepMsPerRound: nativeRuns.map((r) => r.trainStepMs),
        peers,
        speedupVsPeers: ratios,
        cpuSpeedupVsPeers: cpuRatios,
        ...sustained,
      }
    : { net, engine: 'none', peers };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      net: { type: 'string', default: 'net2' },
      nets: { type: 'string', default: BENCH_NETS.join(',') },
      engines: { type: 'string', default: 'native,tfjs-wasm' },
      // tfjs-wasm has no fast kernels for padded and strided convolutions' gradients: bnnet is native only.
      'bnnet-engines': { type: 'string', default: 'native' },
      steps: { type: 'string', default: '10' },
      'tfjs-steps': { type: 'string', default: '2' },
      threads: { type: 'string' },
      peer: { type: 'string' },
      rounds: { type: 'string', default: '1' },
    },
  });
  const threads = values.threads !== undefined ? Number(values.threads) : undefined;
  if (values.child) {
    try {
      const net = values.net as BenchNet;
      console.log(JSON.stringify(await measure(net, values.child, Number(values.steps), threads)));
    } catch (error) {
      console.log((error as Error).message);
      process.exit(2);
    }
    return;
  }
  const nets = values.nets.split(',').filter(Boolean) as BenchNet[];
  for (const net of nets) {
    if (!BENCH_NETS.includes(net))
      throw new Error(`unknown bench net '${net}': expected ${BENCH_NETS.join(', ')}`);
  }
  const options = {
    steps: Number(values.steps),
    tfjsSteps: Number(values['tfjs-steps']),
    threads,
    peer: values.peer,
    rounds: Math.max(1, Number(values.rounds)),
  };
  const summaries: Record<string, NetSummary> = {};
  for (const net of nets) {
    const engines = (
      net === 'bnnet' && values.engines.includes('native') ? values['bnnet-engines'] : values.engines
    )
      .split(',')
      .filter(Boolean);
    summaries[net] = benchNet(net, engines, options);
  }
  // net2's figures at the top level (as before bnnet existed), every net's under `nets`.
  console.log(JSON.stringify({ ...(summaries.net2 ?? {}), nets: summaries }));
}

await main();
