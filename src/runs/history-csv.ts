/** The training history as CSV, one row per epoch, for spreadsheets and pandas. */

import type { EpochRecord } from '../train/history.js';

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
export function historyToCsv(history: readonly EpochRecord[]): string {
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
