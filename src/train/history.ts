/**
 * The train history: one plain record per finished epoch (skorch's idea that
 * history is data). It is what callbacks read, what the verbose table
 * prints, and what a saved net carries so a resumed run continues its
 * epoch numbering and its "best" marks.
 */
import { ConfigError } from '../errors.js';

/**
 * One finished epoch, nolearn's `train_history_` entry in camelCase.
 * `validLoss` is NaN (and `validLossBest` false) when the net trains without
 * a validation split.
 */
export interface EpochRecord {
  /** 1-based epoch number, continuing across resumed runs. */
  epoch: number;
  /** Masked MSE over the epoch's training batches, taken before each batch's update. */
  trainLoss: number;
  /** Masked MSE over the validation rows at the end of the epoch. */
  validLoss: number;
  /** True when `trainLoss` is the lowest so far (ties count, as in nolearn). */
  trainLossBest: boolean;
  /** True when `validLoss` is the lowest so far. */
  validLossBest: boolean;
  /** trainLoss / validLoss (NaN without validation). */
  trainValRatio: number;
  /** Wall-clock seconds the epoch took. */
  dur: number;
}

/**
 * Builds the record of a finished epoch from the losses, marking bests
 * against the earlier records.
 *
 * @example
 * const record = makeEpochRecord(history, { trainLoss: 0.01, validLoss: 0.012, dur: 3.2 });
 * history.push(record);
 */
export function makeEpochRecord(
  history: readonly EpochRecord[],
  losses: { trainLoss: number; validLoss: number; dur: number },
): EpochRecord {
  const previous = history[history.length - 1];
  const epoch = previous ? previous.epoch + 1 : 1;
  // A loop, not Math.min(...list): no copies per epoch, and no argument-count limit on long runs.
  let bestTrain = Infinity;
  let bestValid = Infinity;
  for (const r of history) {
    if (r.trainLoss < bestTrain) bestTrain = r.trainLoss;
    if (r.validLoss < bestValid) bestValid = r.validLoss;
  }
  return {
    epoch,
    trainLoss: losses.trainLoss,
    validLoss: losses.validLoss,
    trainLossBest: losses.trainLoss <= bestTrain,
    validLossBest: !Number.isNaN(losses.validLoss) && losses.validLoss <= bestValid,
    trainValRatio: losses.trainLoss / losses.validLoss,
    dur: losses.dur,
  };
}

const KEYS: (keyof EpochRecord)[] = [
  'epoch',
  'trainLoss',
  'validLoss',
  'trainLossBest',
  'validLossBest',
  'trainValRatio',
  'dur',
];

/**
 * JSON text of a history. NaN (no validation) is written as null, since JSON
 * has no NaN.
 *
 * @example
 * await writeFile('history.json', historyToJson(net.trainHistory));
 */
export function historyToJson(history: readonly EpochRecord[]): string {
  return JSON.stringify(
    history.map((record) =>
      Object.fromEntries(KEYS.map((key) => [key, Number.isNaN(record[key]) ? null : record[key]])),
    ),
    null,
    1,
  );
}

/**
 * Parses what {@link historyToJson} wrote (or any array of records with the
 * same keys), checking every field.
 *
 * @throws ConfigError naming the record and field that is wrong.
 * @example
 * const history = historyFromJson(await readFile('history.json', 'utf8'));
 */
export function historyFromJson(text: string | unknown): EpochRecord[] {
  const value = typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
  if (!Array.isArray(value)) throw new ConfigError('train history: expected an array of epoch records');
  return value.map((raw, index) => {
    if (typeof raw !== 'object' || raw === null) {
      throw new ConfigError(`train history record ${index}: expected an object`);
    }
    const source = raw as Record<string, unknown>;
    const record: Record<string, number | boolean> = {};
    for (const key of KEYS) {
      const field = source[key];
      if (key === 'trainLossBest' || key === 'validLossBest') {
        if (typeof field !== 'boolean')
          throw new ConfigError(`train history record ${index}: ${key} must be a boolean`);
        record[key] = field;
      } else if (field === null && key !== 'epoch') {
        record[key] = NaN;
      } else if (typeof field === 'number') {
        record[key] = field;
      } else {
        throw new ConfigError(
          `train history record ${index}: ${key} must be a number, got ${JSON.stringify(field)}`,
        );
      }
    }
    const parsed = record as unknown as EpochRecord;
    if (!Number.isInteger(parsed.epoch) || parsed.epoch !== index + 1) {
      throw new ConfigError(
        `train history record ${index}: epochs must count 1, 2, 3, ..., got ${parsed.epoch}`,
      );
    }
    return parsed;
  });
}
