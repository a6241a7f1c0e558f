/**
 * Loss curves like the tutorial's comparison plots: train and valid loss of
 * one or several runs in one figure, epoch on x, loss on a log scale on y.
 * Built as a vega-lite spec, rendered headless to SVG by vega, and rasterised
 * to PNG by sharp, so no browser or canvas is needed.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import sharp from 'sharp';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';

/** The per-epoch values a curve needs (a subset of the training history records). */
export interface LossPoint {
  epoch: number;
  trainLoss: number;
  validLoss: number;
}

/** One run's curves: a legend label and its history. */
export interface LossSeries {
  label: string;
  history: readonly LossPoint[];
}

/** Figure options. */
export interface LossFigureOptions {
  title?: string;
  /** Plot area width in CSS pixels (default 640). */
  width?: number;
  /** Plot area height in CSS pixels (default 400). */
  height?: number;
  /** The loss kinds the curves show ('mse', 'wing', ...), named on the y axis (default ['mse']). */
  losses?: readonly string[];
}

interface CurveRow {
  run: string;
  split: 'train' | 'valid';
  epoch: number;
  loss: number;
}

// libvips keeps the last 100 operations and their buffers for reuse; every
// save of a run renders a new figure, so the cache only grew the memory of a
// long run (issue 11) without ever being hit.
sharp.cache(false);

/** Fonts installed by .ci/run (fonts-dejavu-core); librsvg falls back to any sans-serif otherwise. */
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/** Runs with at most this many epochs get a dot per epoch. */
const SHOW_POINTS_UP_TO = 30;

/**
 * Points drawn per curve at most. The figure is 640 px wide, so more points
 * only cost time and memory: rendering holds every point's scenegraph item,
 * about 30 kB of memory per epoch of a two-curve run, so without a cap a long
 * run's memory grew with every save (issue 11).
 */
export const MAX_POINTS_PER_CURVE = 300;

/**
 * At most `max` of `rows` (in epoch order): evenly spaced ones, always with
 * the first, the last and the lowest loss, so the curve keeps its ends and
 * its minimum.
 */
function thinned(rows: CurveRow[], max: number): CurveRow[] {
  if (rows.length <= max) return rows;
  let lowest = 0;
  for (let i = 1; i < rows.length; i++) if (rows[i].loss < rows[lowest].loss) lowest = i;
  const keep = new Set<number>([lowest]);
  for (let k = 0; k < max - 1; k++) keep.add(Math.round((k * (rows.length - 1)) / (max - 2)));
  return [...keep]
    .filter((i) => i < rows.length)
    .sort((a, b) => a - b)
    .map((i) => rows[i]);
}

function curveRows(series: readonly LossSeries[]): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const { label, history } of series) {
    const train: CurveRow[] = [];
    const valid: CurveRow[] = [];
    for (const record of history) {
      // A log axis cannot show 0, NaN (no validation split) or infinities
      // (a diverged run); leaving those points out keeps the rest readable.
      if (Number.isFinite(record.trainLoss) && record.trainLoss > 0) {
        train.push({ run: label, split: 'train', epoch: record.epoch, loss: record.trainLoss });
      }
      if (Number.isFinite(record.validLoss) && record.validLoss > 0) {
        valid.push({ run: label, split: 'valid', epoch: record.epoch, loss: record.validLoss });
      }
    }
    rows.push(...thinned(train, MAX_POINTS_PER_CURVE), ...thinned(valid, MAX_POINTS_PER_CURVE));
  }
  return rows;
}

/**
 * The vega-lite spec of the figure: colour tells the runs apart, the dash
 * tells train (solid) from valid (dashed), as in the tutorial.
 *
 * @example
 * const spec = lossCurvesSpec([{ label: 'net1', history: net.trainHistory }]);
 */
export function lossCurvesSpec(
  series: readonly LossSeries[],
  options: LossFigureOptions = {},
): vegaLite.TopLevelSpec {
  const rows = curveRows(series);
  for (const { label, history } of series) {
    if (history.length > 0 && !rows.some((row) => row.run === label)) {
      throw new ConfigError(
        `run ${label} has no finite positive loss to plot: all of its ${history.length} epochs have NaN, infinite or zero losses (a diverged run?)`,
      );
    }
  }
  if (rows.length === 0) {
    throw new ConfigError('no finite positive losses to plot: the history is empty or every loss is 0/NaN');
  }
  const labels = series.map((s) => s.label);
  const longest = Math.max(...series.map((s) => s.history.length));
  if (new Set(labels).size !== labels.length) {
    throw new ConfigError(`run labels must be distinct to tell the curves apart: ${labels.join(', ')}`);
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: options.width ?? 640,
    height: options.height ?? 400,
    background: 'white',
    padding: 12,
    data: { values: rows },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        axis: { tickMinStep: 1 },
        scale: { padding: 8, nice: false },
      },
      y: {
        field: 'loss',
        type: 'quantitative',
        title: `loss (${(options.losses ?? ['mse']).map((kind) => (kind === 'mse' ? 'MSE' : kind)).join(' / ')}, scaled targets)`,
        scale: { type: 'log', nice: false, padding: 8 },
      },
      color: { field: 'run', type: 'nominal', title: 'run', sort: labels },
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          strokeDash: {
            field: 'split',
            type: 'nominal',
            title: 'split',
            legend: { symbolStrokeColor: '#555555' },
            scale: {
              domain: ['train', 'valid'],
              range: [
                [1, 0],
                [6, 4],
              ],
            },
          },
          detail: { field: 'split' },
          order: { field: 'epoch', type: 'quantitative' },
        },
      },
      // Short runs get dots on the lines, so a one-epoch run still shows up.
      ...(longest <= SHOW_POINTS_UP_TO
        ? [
            {
              mark: { type: 'point' as const, filled: true, size: 30, opacity: 1 },
              encoding: { shape: { value: 'circle' } },
            },
          ]
        : []),
    ],
    config: {
      font: FONT,
      axis: { grid: true, gridOpacity: 0.5, labelFontSize: 11, titleFontSize: 12 },
      legend: {
        labelFontSize: 11,
        titleFontSize: 12,
        symbolType: 'stroke',
        symbolStrokeWidth: 2,
        symbolSize: 300,
      },
      title: { fontSize: 14 },
    },
  };
}

/**
 * Renders the figure as an SVG document.
 *
 * @example
 * const svg = await renderLossCurvesSvg([{ label: 'net1', history }], { title: 'net1' });
 */
export async function renderLossCurvesSvg(
  series: readonly LossSeries[],
  options: LossFigureOptions = {},
): Promise<string> {
  const compiled = vegaLite.compile(lossCurvesSpec(series, options)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterises an SVG to PNG at `scale` times its CSS size (2 = sharp on
 * high-density screens and in documents).
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
}

/**
 * Writes the figure as SVG and/or PNG, each atomically.
 *
 * @example
 * await writeLossCurves([{ label: 'net1', history }], { svgPath: 'runs/a/loss.svg', pngPath: 'runs/a/loss.png' });
 */
export async function writeLossCurves(
  series: readonly LossSeries[],
  paths: { svgPath?: string; pngPath?: string },
  options: LossFigureOptions = {},
): Promise<void> {
  const svg = await renderLossCurvesSvg(series, options);
  for (const path of [paths.svgPath, paths.pngPath])
    if (path) await mkdir(dirname(path), { recursive: true });
  if (paths.svgPath) await writeFileAtomic(paths.svgPath, svg);
  if (paths.pngPath) await writeFileAtomic(paths.pngPath, await svgToPng(svg));
}
