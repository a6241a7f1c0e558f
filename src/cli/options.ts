/**
 * Option parsers shared by the commands. Each turns one option's text into a
 * value or throws commander's InvalidArgumentError, which commander reports
 * as "option '--x <v>' argument 'bad' is invalid. <why>" with exit code 1.
 */
import { InvalidArgumentError, Option } from 'commander';

import type { CropBox } from '../data/crop.js';
import type { EngineChoice } from '../engine/engine.js';
import { ENGINE_CHOICES, type Schedule } from '../runs/train-config.js';

/** `--epochs 100`: an integer >= 1. */
export function parsePositiveInt(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1.');
  }
  return value;
}

/** `--seed 0`: an integer >= 0 that fits in 32 bits (the RNG's seed word). */
export function parseSeed(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value > 0xffffffff) {
    throw new InvalidArgumentError('expected a whole number from 0 to 4294967295.');
  }
  return value;
}

function parseFinite(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new InvalidArgumentError(`"${text}" is not ${what}.`);
  return value;
}

/**
 * `--lr 0.03:0.0001` (linear from start to stop over the epochs) or
 * `--lr 0.01` (constant).
 *
 * @example
 * parseSchedule('0.9:0.999'); // { start: 0.9, stop: 0.999 }
 */
export function parseSchedule(text: string): Schedule {
  const parts = text.split(':');
  if (parts.length > 2) throw new InvalidArgumentError('expected START or START:STOP, e.g. 0.03:0.0001.');
  const start = parseFinite(parts[0], 'a number');
  const stop = parts.length === 2 ? parseFinite(parts[1], 'a number') : start;
  if (start < 0 || stop < 0) throw new InvalidArgumentError('values must not be negative.');
  return { start, stop };
}

/**
 * `--box 120,80,200`: left, top, side of a square face box in pixels: the box starts at pixel (120, 80)
 * and spans 200 pixels, as `CropBox` counts them.
 *
 * @example
 * parseBox('10,20,96'); // { x: 10, y: 20, size: 96 }
 */
export function parseBox(text: string): CropBox {
  const parts = text.split(',');
  if (parts.length !== 3) throw new InvalidArgumentError('expected X,Y,SIZE in pixels, e.g. 120,80,200.');
  const [x, y, size] = parts.map((p) => parseFinite(p, 'a number'));
  if (size <= 0) throw new InvalidArgumentError('SIZE must be positive.');
  return { x, y, size };
}

/** `--valid 0.2`: a fraction in [0, 1). */
export function parseFraction(text: string): number {
  const value = parseFinite(text, 'a number');
  if (value < 0 || value >= 1)
    throw new InvalidArgumentError('expected a fraction from 0 up to (not including) 1.');
  return value;
}

/**
 * `--engine auto|native|tfjs`, the same on every command. `train` passes
 * `null` (no default), so a resumed run keeps the engine its config names.
 *
 * @example
 * command.addOption(engineOption());
 */
export function engineOption(defaultChoice: EngineChoice | null = 'auto'): Option {
  const option = new Option('--engine <name>', 'compute engine').choices(ENGINE_CHOICES);
  return defaultChoice === null ? option : option.default(defaultChoice);
}
