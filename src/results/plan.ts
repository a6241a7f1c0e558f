/**
 * What `npm run results` trains: the tutorial's general nets net1..net6 at
 * their tutorial epochs times a budget, then its six specialists. One run
 * folder per net is the unit of resumption.
 */
import { ConfigError } from '../errors.js';
import { type PresetName, presetTraining } from '../nn/presets.js';

/** The general nets the results page compares, in the tutorial's order. */
export const RESULT_NETS: readonly PresetName[] = ['net1', 'net2', 'net3', 'net4', 'net5', 'net6'];

/** The epochs at which the tutorial prints its tables (the seed's net4/net5 tables, extended to 3000). */
export const TUTORIAL_REPORT_EPOCHS: readonly number[] = [
  50, 100, 250, 500, 750, 1000, 1500, 2000, 2500, 3000,
];

/** The specialists' early-stopping patience in the tutorial. */
export const SPECIALIST_PATIENCE = 200;

/** Checks a budget: a fraction > 0 of the tutorial's epochs (1 = the tutorial's full schedule). */
export function checkBudget(budget: number): number {
  if (!Number.isFinite(budget) || budget <= 0 || budget > 10) {
    throw new ConfigError(`--budget must be a number in (0, 10] (1 = the tutorial's epochs), got ${budget}`);
  }
  return budget;
}

/**
 * A tutorial epoch count times the budget, at least 1.
 *
 * @example
 * scaledEpochs(1000, 0.05); // 50
 */
export function scaledEpochs(tutorialEpochs: number, budget: number): number {
  return Math.max(1, Math.round(tutorialEpochs * budget));
}

/**
 * The epochs a general net trains for at this budget.
 *
 * @example
 * netEpochs('net3', 0.3); // 900 of the tutorial's 3000
 */
export function netEpochs(net: PresetName, budget: number): number {
  return scaledEpochs(presetTraining(net).maxEpochs, budget);
}

/**
 * The rows of a net's table: the tutorial's reporting epochs up to its
 * epochs, scaled by the budget, plus the last epoch trained; distinct, ascending.
 *
 * @example
 * reportEpochs(1000, 0.1, 100); // [5, 10, 25, 50, 75, 100]
 */
export function reportEpochs(tutorialEpochs: number, budget: number, trained: number): number[] {
  const epochs = TUTORIAL_REPORT_EPOCHS.filter((e) => e <= tutorialEpochs).map((e) =>
    scaledEpochs(e, budget),
  );
  if (!epochs.includes(scaledEpochs(tutorialEpochs, budget)))
    epochs.push(scaledEpochs(tutorialEpochs, budget));
  epochs.push(trained);
  return [...new Set(epochs.filter((e) => e >= 1 && e <= trained))].sort((a, b) => a - b);
}
