/**
 * Splits that keep groups whole. Frames of one person are near-duplicates, so
 * a validation set that shares identities with the training set reports
 * optimistic numbers; splitting by identity keeps the two apart.
 */
import { ConfigError } from '../errors.js';
import { Rng } from '../random/rng.js';

/**
 * The identity of a face image from its file name: the name without its
 * folder and without the trailing `_NN.<ext>` (clip and frame digits), as in
 * the YouTube Faces / Udacity names `<Person_Name>_<clip><frame>.jpg`.
 * Names without that ending are their own identity (minus the extension).
 *
 * @example
 * identityOf('Abdel_Aziz_Al-Hakim_01.jpg'); // 'Abdel_Aziz_Al-Hakim'
 */
export function identityOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '');
  const withoutFrame = base.replace(/_\d+\.[A-Za-z0-9]+$/, '');
  if (withoutFrame !== base) return withoutFrame;
  return base.replace(/\.[A-Za-z0-9]+$/, '');
}

/** Row indices of the two sides of a split. */
export interface GroupSplit {
  train: Int32Array;
  valid: Int32Array;
}

/**
 * Splits rows so that every group lies wholly on one side. Groups are shuffled
 * with the seed and then taken into the validation side until it holds at
 * least `evalSize` of the rows (so the fraction is approximate). Row order is
 * kept within each side.
 *
 * @example
 * const { train, valid } = groupSplit(dataset.groups!, { evalSize: 0.2, seed: 1 });
 */
export function groupSplit(
  groups: readonly string[],
  options: { evalSize?: number; seed?: number } = {},
): GroupSplit {
  const evalSize = options.evalSize ?? 0.2;
  if (!(evalSize >= 0 && evalSize < 1)) throw new ConfigError(`evalSize must be in [0, 1), got ${evalSize}`);
  const names = [...new Set(groups)].sort();
  const order = new Rng(options.seed ?? 0, 'group-split').permutation(names.length);
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const wanted = Math.round(evalSize * groups.length);
  const validGroups = new Set<string>();
  let taken = 0;
  for (let i = 0; i < order.length && taken < wanted; i++) {
    const name = names[order[i]];
    validGroups.add(name);
    taken += sizes.get(name)!;
  }
  const train: number[] = [];
  const valid: number[] = [];
  groups.forEach((g, row) => (validGroups.has(g) ? valid : train).push(row));
  return { train: Int32Array.from(train), valid: Int32Array.from(valid) };
}
