/**
 * The seed's claims, answered from training histories: do the schedules
 * reach the constant-rate nets' best validation loss in fewer epochs, does
 * flipping lower the validation loss, does dropout. The wording follows the
 * numbers; nothing here knows what the answer should be.
 */
import type { EpochRecord } from '../train/history.js';

/** Relative differences below this count as "about the same". */
export const SAME_WITHIN = 0.01;

type History = readonly Pick<EpochRecord, 'epoch' | 'validLoss' | 'trainLoss'>[];

/** The lowest validation loss and its epoch, over epochs up to `upTo` (default all). */
export function bestValid(history: History, upTo = Infinity): { loss: number; epoch: number } | null {
  let best: { loss: number; epoch: number } | null = null;
  for (const r of history) {
    if (r.epoch > upTo || !Number.isFinite(r.validLoss)) continue;
    if (!best || r.validLoss < best.loss) best = { loss: r.validLoss, epoch: r.epoch };
  }
  return best;
}

/** The first epoch whose validation loss is at or below `loss`, or null. */
export function firstEpochReaching(history: History, loss: number): number | null {
  for (const r of history) if (Number.isFinite(r.validLoss) && r.validLoss <= loss) return r.epoch;
  return null;
}

/** "3.2 % lower", "12 % higher", "about the same (within 1 %)": a vs b. */
export function compareWords(a: number, b: number): { words: string; sign: -1 | 0 | 1 } {
  const rel = (a - b) / b;
  if (!Number.isFinite(rel)) return { words: 'not comparable', sign: 0 };
  if (Math.abs(rel) < SAME_WITHIN)
    return { words: `about the same (within ${SAME_WITHIN * 100} %)`, sign: 0 };
  const pct = Math.abs(rel) * 100;
  return {
    words: `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)} % ${rel < 0 ? 'lower' : 'higher'}`,
    sign: rel < 0 ? -1 : 1,
  };
}

function loss(x: number): string {
  return x.toPrecision(4);
}

/** Claim 1: does `fast` (scheduled) reach `slow`'s best validation loss, and in how many fewer epochs? */
export function scheduleClaim(
  fast: { name: string; history: History },
  slow: { name: string; history: History },
): { text: string; fewerEpochs: number | null } {
  const target = bestValid(slow.history);
  const own = bestValid(fast.history);
  if (!target || !own)
    return { text: `${fast.name} or ${slow.name} has no validation loss.`, fewerEpochs: null };
  const fastEpochs = fast.history.length;
  const slowEpochs = slow.history.length;
  const reached = firstEpochReaching(fast.history, target.loss);
  const head = `${slow.name}'s best validation loss is ${loss(target.loss)} at epoch ${target.epoch} of ${slowEpochs}`;
  if (reached === null) {
    return {
      text:
        `${head}; ${fast.name} does not reach it in its ${fastEpochs} epochs ` +
        `(its best: ${loss(own.loss)} at epoch ${own.epoch}, ${compareWords(own.loss, target.loss).words}).`,
      fewerEpochs: null,
    };
  }
  const fewer = target.epoch - reached;
  const when =
    fewer > 0
      ? `${fewer} fewer epochs (${((reached / target.epoch) * 100).toFixed(0)} % of them)`
      : fewer === 0
        ? 'the same epoch'
        : `${-fewer} epochs later`;
  return {
    text:
      `${head}; ${fast.name} reaches it at epoch ${reached}: ${when}. ` +
      `${fast.name}'s own best is ${loss(own.loss)} at epoch ${own.epoch}.`,
    fewerEpochs: fewer,
  };
}

/**
 * Claims 2 and 3: `with` vs `without` a change (flips, dropout), compared at
 * their best over the epochs both trained and over each whole run.
 */
export function changeClaim(
  change: string,
  withIt: { name: string; history: History },
  without: { name: string; history: History },
): { text: string; sign: -1 | 0 | 1 | null } {
  const common = Math.min(withIt.history.length, without.history.length);
  const a = bestValid(withIt.history, common);
  const b = bestValid(without.history, common);
  if (!a || !b) return { text: `${withIt.name} or ${without.name} has no validation loss.`, sign: null };
  const within = compareWords(a.loss, b.loss);
  let text =
    `Over the ${common} epochs both trained, ${withIt.name} (${change}) reaches a best validation loss of ` +
    `${loss(a.loss)} (epoch ${a.epoch}) against ${without.name}'s ${loss(b.loss)} (epoch ${b.epoch}): ${within.words}`;
  if (withIt.history.length !== without.history.length) {
    const wa = bestValid(withIt.history)!;
    const wb = bestValid(without.history)!;
    text +=
      `; over their whole runs (${withIt.history.length} and ${without.history.length} epochs) ` +
      `${loss(wa.loss)} against ${loss(wb.loss)}: ${compareWords(wa.loss, wb.loss).words}`;
  }
  const lastA = withIt.history[common - 1];
  const lastB = without.history[common - 1];
  if (lastA && lastB && lastA.validLoss > 0 && lastB.validLoss > 0) {
    text +=
      `. Train/val at epoch ${common}: ${(lastA.trainLoss / lastA.validLoss).toFixed(2)} ` +
      `(${withIt.name}) vs ${(lastB.trainLoss / lastB.validLoss).toFixed(2)} (${without.name})`;
  }
  return { text: `${text}.`, sign: within.sign };
}
