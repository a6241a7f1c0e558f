/**
 * Seeded pseudo-random numbers. Every random choice in facepoints (weight
 * init, shuffling, flips, splits, dropout masks, synthetic faces) draws from
 * a generator made here, so a run is repeatable from its seed.
 *
 * Streams are derived from (seed, ...keys) rather than carried along, so
 * epoch 7's shuffle is the same whether training ran straight through or was
 * resumed at epoch 5.
 */

/** Mixes 32-bit words into one (a murmur3-style finaliser). */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const word of words) {
    let k = Math.imul(word | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A small, fast generator (sfc32) with the helpers training needs.
 *
 * @example
 * const rng = new Rng(42, 'shuffle', epoch);
 * const order = rng.permutation(100);
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Keys may be numbers or short strings; they select an independent stream of the seed. */
  constructor(seed: number, ...keys: (number | string)[]) {
    const words = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, ...keys.map(keyWord)];
    this.a = mixSeed(...words, 1);
    this.b = mixSeed(...words, 2);
    this.c = mixSeed(...words, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}

function keyWord(key: number | string): number {
  if (typeof key === 'number') return key >>> 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
