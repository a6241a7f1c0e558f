/** The machine a run trained on, so timings in a run record can be read in context. */
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  os: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  hostname: string;
}

/**
 * @example
 * const machine = machineInfo(); // { os: 'linux 6.1.0', cpus: 2, ... }
 */
export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    cpus: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    hostname: hostname(),
  };
}
