/**
 * Copying parameters between nets of different shapes (nolearn's
 * `load_params_from`): the tutorial starts each specialist from a trained
 * general net, whose layers all fit except the output layer.
 */
import type { NamedTensor } from '../engine/engine.js';
import { layerTensors, paramKey, type ResolvedLayer, type ResolvedSpec } from '../nn/spec.js';

/** What a transfer copied and skipped, and the resulting full weight list. */
export interface ParamsReport {
  copied: { layer: string; from: string; shapes: string }[];
  skipped: { layer: string; reason: string }[];
  /** The target's weights with the copied layers replaced. */
  weights: NamedTensor[];
}

function shapesOf(layer: ResolvedLayer): string {
  return layerTensors(layer)
    .map((p) => `${p.name} ${p.shape.join('x')}`)
    .join(', ');
}

/**
 * Matches every parameterised layer of `target` to a layer of `source`: the
 * layer of the same name, or, when the source has no layer of that name, the
 * source's parameterised layer at the same position. A match is copied only
 * when all parameter shapes are equal.
 *
 * @example
 * const report = matchParams(specialistSpec, generalSpec, await general.getWeights(), await specialist.getWeights());
 * report.skipped; // [{ layer: 'output', reason: 'shapes differ: ...' }]
 */
export function matchParams(
  target: ResolvedSpec,
  source: ResolvedSpec,
  sourceWeights: NamedTensor[],
  targetWeights: NamedTensor[],
): ParamsReport {
  const sourceByName = new Map(sourceWeights.map((t) => [t.name, t]));
  const withParams = (spec: ResolvedSpec) => spec.layers.filter((l) => l.params.length > 0);
  const sourceLayers = withParams(source);
  const weights = new Map(targetWeights.map((t) => [t.name, t]));
  const report: ParamsReport = { copied: [], skipped: [], weights: [] };
  const used = new Set<string>();
  withParams(target).forEach((layer, position) => {
    const byName = sourceLayers.find((l) => l.name === layer.name);
    const candidate = byName ?? sourceLayers[position];
    if (!candidate || used.has(candidate.name)) {
      report.skipped.push({ layer: layer.name, reason: 'no layer of that name or position in the source' });
      return;
    }
    const mine = layerTensors(layer);
    const theirs = layerTensors(candidate);
    const same =
      theirs.length === mine.length &&
      theirs.every((p, i) => p.name === mine[i].name && p.shape.join('x') === mine[i].shape.join('x'));
    if (!same) {
      report.skipped.push({
        layer: layer.name,
        reason: `shapes differ: ${shapesOf(layer)} here, ${shapesOf(candidate)} in source layer '${candidate.name}'`,
      });
      return;
    }
    used.add(candidate.name);
    // Layer state (batch norm's running statistics) travels with the parameters.
    for (const param of mine) {
      const from = sourceByName.get(paramKey(candidate.name, param.name));
      if (!from) throw new Error(`source weights lack ${paramKey(candidate.name, param.name)}`);
      weights.set(paramKey(layer.name, param.name), {
        name: paramKey(layer.name, param.name),
        shape: [...param.shape],
        data: Float32Array.from(from.data),
      });
    }
    report.copied.push({ layer: layer.name, from: candidate.name, shapes: shapesOf(layer) });
  });
  report.weights = targetWeights.map((t) => weights.get(t.name)!);
  return report;
}
