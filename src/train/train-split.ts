/**
 * The hold-out split of nolearn's `train_split`. nolearn takes the first
 * `eval_size` of the rows as they come; we shuffle with a seed (rows of a
 * file are often sorted by source), and with groups (e.g. face identities)
 * we keep every group wholly on one side, so validation never sees a face
 * it trained on.
 */
import { ConfigError } from '../errors.js';
import { Rng } from '../random/rng.js';

export interface TrainSplitOptions {
  /** Fraction of rows held out for validation, in [0, 1); 0 = no validation (default 0.2). */
  evalSize?: number;
  /** Seed of the shuffle; default: the net's seed. */
  seed?: number;
  /** Shuffle before splitting (default true); false takes the first rows as nolearn does. */
  shuffle?: boolean;
}

/** Row numbers of each side, in ascending order. */
export interface SplitIndices {
  train: Int32Array;
  valid: Int32Array;
}

export interface TrainSplitConfig {
  type: 'TrainSplit';
  evalSize: number;
  seed?: number;
  shuffle: boolean;
}

/**
 * @example
 * const { train, valid } = new TrainSplit({ evalSize: 0.2, seed: 1 }).split(X.length / 9216, { groups });
 */
export class TrainSplit {
  readonly evalSize: number;
  readonly seed?: number;
  readonly shuffle: boolean;

  constructor(options: TrainSplitOptions = {}) {
    const evalSize = options.evalSize ?? 0.2;
    if (typeof evalSize !== 'number' || !(evalSize >= 0 && evalSize < 1)) {
      throw new ConfigError(`evalSize must be in [0, 1), got ${evalSize}`);
    }
    this.evalSize = evalSize;
    this.seed = options.seed;
    this.shuffle = options.shuffle ?? true;
  }

  /**
   * Splits `count` rows. With `groups` (one label per row) whole groups go to
   * one side, picked in a seeded order until the validation side holds at
   * least round(evalSize * count) rows.
   *
   * @throws ConfigError when groups do not match the rows, or when a
   *   non-zero evalSize would leave one side empty.
   */
  split(count: number, options: { groups?: readonly string[]; seed?: number } = {}): SplitIndices {
    const seed = this.seed ?? options.seed ?? 0;
    const wanted = Math.round(this.evalSize * count);
    if (this.evalSize === 0)
      return { train: Int32Array.from({ length: count }, (_, i) => i), valid: new Int32Array(0) };
    if (wanted < 1 || wanted >= count) {
      throw new ConfigError(
        `evalSize ${this.evalSize} of ${count} rows leaves a side empty; use evalSize 0 for no validation`,
      );
    }
    const isValid = new Uint8Array(count);
    const { groups } = options;
    if (groups) {
      if (groups.length !== count) {
        throw new ConfigError(`groups has ${groups.length} labels for ${count} rows; give one group per row`);
      }
      const members = new Map<string, number[]>();
      groups.forEach((group, row) => {
        const list = members.get(group);
        if (list) list.push(row);
        else members.set(group, [row]);
      });
      const names = [...members.keys()].sort();
      if (names.length < 2) throw new ConfigError('groups: a split by group needs at least two groups');
      const order = this.shuffle
        ? new Rng(seed, 'train-split').permutation(names.length)
        : names.map((_, i) => i);
      let taken = 0;
      for (let k = 0; k < order.length - 1 && taken < wanted; k++) {
        for (const row of members.get(names[order[k]])!) isValid[row] = 1;
        taken += members.get(names[order[k]])!.length;
      }
    } else {
      const order = this.shuffle ? new Rng(seed, 'train-split').permutation(count) : undefined;
      for (let k = 0; k < wanted; k++) isValid[order ? order[k] : k] = 1;
    }
    const train: number[] = [];
    const valid: number[] = [];
    for (let row = 0; row < count; row++) (isValid[row] ? valid : train).push(row);
    return { train: Int32Array.from(train), valid: Int32Array.from(valid) };
  }

  toConfig(): TrainSplitConfig {
    return { type: 'TrainSplit', evalSize: this.evalSize, seed: this.seed, shuffle: this.shuffle };
  }
}
