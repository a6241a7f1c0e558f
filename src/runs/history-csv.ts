/** The training history as CSV, one row per epoch, for spreadsheets and pandas. */

/** The fields of a per-epoch record a run folder keeps (the NeuralNet's EpochRecord fits). */
export interface HistoryRecord {
  epoch: number;
  trainLoss: number;
  validLoss: number;
  trainLossBest: boolean;
  validLossBest: boolean;
  trainValRatio: number;
  dur: number;
}

/** Column order of history.csv. */
export const HISTORY_CSV_COLUMNS = [
  'epoch',
  'train_loss',
  'valid_loss',
  'train_loss_best',
  'valid_loss_best',
  'train_val_ratio',
  'dur',
] as const;

function formatNumber(value: number): string {
  // Empty cell for NaN (no validation split), like pandas' to_csv.
  return Number.isFinite(value) ? String(value) : '';
}

/**
 * @example
 * await writeFileAtomic('history.csv', historyToCsv(net.trainHistory));
 */
export function historyToCsv(history: readonly HistoryRecord[]): string {
  const lines = [HISTORY_CSV_COLUMNS.join(',')];
  for (const r of history) {
    lines.push(
      [
        r.epoch,
        formatNumber(r.trainLoss),
        formatNumber(r.validLoss),
        r.trainLossBest ? 1 : 0,
        r.validLossBest ? 1 : 0,
        formatNumber(r.trainValRatio),
        formatNumber(r.dur),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** JSON cannot hold NaN: history.json stores missing numbers as null and reads them back as NaN. */
export function historyToJson(history: readonly HistoryRecord[]): unknown[] {
  return history.map((r) => ({
    epoch: r.epoch,
    trainLoss: Number.isFinite(r.trainLoss) ? r.trainLoss : null,
    validLoss: Number.isFinite(r.validLoss) ? r.validLoss : null,
    trainLossBest: r.trainLossBest,
    validLossBest: r.validLossBest,
    trainValRatio: Number.isFinite(r.trainValRatio) ? r.trainValRatio : null,
    dur: r.dur,
  }));
}

/** Reads history.json's records back, nulls as NaN. */
export function historyFromJson(value: unknown): HistoryRecord[] {
  if (!Array.isArray(value)) throw new TypeError('history.json must hold an array of epoch records');
  const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
  return value.map((r: Record<string, unknown>) => ({
    epoch: num(r.epoch),
    trainLoss: num(r.trainLoss),
    validLoss: num(r.validLoss),
    trainLossBest: r.trainLossBest === true,
    validLossBest: r.validLossBest === true,
    trainValRatio: num(r.trainValRatio),
    dur: num(r.dur),
  }));
}
