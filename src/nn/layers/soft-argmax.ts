/**
 * Soft-argmax (integral regression, Sun et al. 2018; DSNT, Nibali et al.
 * 2018): each input channel is one keypoint's heatmap of logits; the layer
 * takes a softmax over the channel's H x W cells and outputs the expected
 * position, x then y, in the frame's target units. [C, H, W] -> [2C], in the
 * order x0, y0, x1, y1, ... of keypoint targets.
 *
 * Why a layer of its own: a dense head must learn one weight per position and
 * feature for every coordinate; this one needs no weights at all, and its
 * gradient reaches the cells near where each point is, so what a
 * convolution learns about an eye corner at one place holds at every place.
 *
 * Coordinates: the map covers the network's input frame (height Fh, width Fw
 * pixels, pixel centres at integers, as the crop rule has them). Cell column j
 * of W covers pixels j Fw/W .. (j+1) Fw/W - 1, so its centre is the pixel
 * (j + 0.5) Fw/W - 0.5, which in target units ((pixel - Fw/2) / (Fw/2), the
 * Kaggle frame's (v - 48) / 48) is `softArgmaxGrid(W, Fw)[j]`; rows likewise.
 * Outputs lie inside the outermost cell centres: a 12x12 map over the 96
 * frame reaches pixels 3.5 .. 91.5.
 *
 * @example
 * // 68 heatmaps at 12x12, then their expected positions: 136 outputs
 * [{ kind: 'conv2d', filters: 68, kernelSize: 1, activation: 'linear' }, { kind: 'softargmax' }]
 */
import { ShapeError } from '../../errors.js';
import { requireImage, type LayerDefinition, type ResolvedBase } from './layer.js';

export interface SoftArgmaxLayerSpec {
  kind: 'softargmax';
  name?: string;
}

export type ResolvedSoftArgmaxLayer = SoftArgmaxLayerSpec &
  ResolvedBase & {
    /** The network input's [height, width]: the frame the map's cells are placed in. */
    frame: [number, number];
  };

/**
 * The centres of `cells` map cells spread over a frame side of `frame`
 * pixels, in target units ((pixel - frame/2) / (frame/2)).
 *
 * @example
 * softArgmaxGrid(2, 4); // cells centred on pixels 0.5 and 2.5 of a 4-pixel side: [-0.75, 0.25]
 */
export function softArgmaxGrid(cells: number, frame: number): Float64Array {
  const half = frame / 2;
  const grid = new Float64Array(cells);
  for (let j = 0; j < cells; j++) grid[j] = ((j + 0.5) * (frame / cells) - 0.5 - half) / half;
  return grid;
}

export const softArgmaxLayer: LayerDefinition<SoftArgmaxLayerSpec, ResolvedSoftArgmaxLayer> = {
  kind: 'softargmax',
  prefix: 'softargmax',
  resolve(layer, inputShape, name, networkInput) {
    const [c] = requireImage(name, 'softargmax', inputShape);
    if (networkInput.length !== 3) {
      throw new ShapeError(
        name,
        `softargmax places its cells in the network's input image, but the input is [${networkInput}], not [channels, height, width]`,
      );
    }
    return {
      ...layer,
      name,
      frame: [networkInput[1], networkInput[2]],
      inputShape: [...inputShape],
      outputShape: [2 * c],
      params: [],
      state: [],
    };
  },
};

/**
 * A soft-argmax layer's cell centres as a [cells, 2] matrix, row h * W + w
 * holding that cell's x and y: a heatmap's softmax (a row vector over the
 * cells) times it is the heatmap's expected point.
 *
 * @example
 * softArgmaxCentres({ inputShape: [68, 12, 12], frame: [96, 96] }); // 144 rows of (x, y)
 */
export function softArgmaxCentres(layer: { inputShape: number[]; frame: [number, number] }): Float32Array {
  const [, h, w] = layer.inputShape;
  const gridX = softArgmaxGrid(w, layer.frame[1]);
  const gridY = softArgmaxGrid(h, layer.frame[0]);
  const centres = new Float32Array(h * w * 2);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      centres[(i * w + j) * 2] = gridX[j];
      centres[(i * w + j) * 2 + 1] = gridY[i];
    }
  return centres;
}
