/**
 * ONNX export (opset 13, dynamic batch). ONNX computes in the engine
 * boundary's own layouts (NCHW images, conv W [out, in, kh, kw], Flatten in
 * C, H, W order, Gemm with W [in, out]), so weights go in unchanged. The
 * file is written with the small protobuf writer in `protobuf.ts`; field
 * numbers are those of onnx/onnx.proto.
 *
 * Graph: input `input` [batch, C, H, W] (or [batch, features]) -> Conv (explicit
 * pads, strides) / Relu / LeakyRelu / MaxPool / AveragePool / GlobalAveragePool /
 * BatchNormalization / Flatten / Gemm nodes (soft-argmax: Reshape / Softmax / MatMul / Reshape) -> output `keypoints` [batch, outputs].
 * Dropout is left out (it is the identity at inference); a batch norm right
 * after a linear conv or dense layer is folded into its weights (export-plan.ts).
 */
import type { NamedTensor } from '../engine/engine.js';
import { softArgmaxCentres } from '../nn/layers/soft-argmax.js';
import type { ModelContent } from '../train/model-file.js';
import { exportMetadata, exportPlan, inferenceLayers, UnsupportedLayerError } from './export-plan.js';
import { ProtoMessage } from './protobuf.js';

/** ONNX IR version of opset 13 (ONNX 1.8). */
const IR_VERSION = 7;
const OPSET = 13;
/** TensorProto.DataType.FLOAT */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** Names of the exported graph's input and output. */
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'keypoints';

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  output: string;
  attributes: ProtoMessage[];
}

function floatAttr(name: string, value: number): ProtoMessage {
  return new ProtoMessage().string(1, name).float(2, value).varint(20, ATTR_FLOAT);
}

function intAttr(name: string, value: number): ProtoMessage {
  return new ProtoMessage().string(1, name).varint(3, value).varint(20, ATTR_INT);
}

function intsAttr(name: string, values: number[]): ProtoMessage {
  return new ProtoMessage().string(1, name).varints(8, values).varint(20, ATTR_INTS);
}

function tensorProto(name: string, tensor: NamedTensor): ProtoMessage {
  const raw = new Uint8Array(tensor.data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < tensor.data.length; i++) view.setFloat32(i * 4, tensor.data[i], true);
  return new ProtoMessage().varints(1, tensor.shape).varint(2, FLOAT).string(8, name).bytes(9, raw);
}

/** TensorProto.DataType.INT64, a 1-D tensor in raw little-endian bytes. */
function int64TensorProto(name: string, values: number[]): ProtoMessage {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return new ProtoMessage().varints(1, [values.length]).varint(2, INT64).string(8, name).bytes(9, raw);
}

/** ValueInfoProto of a float tensor whose first dimension is the symbolic `batch`. */
function valueInfo(name: string, dims: number[]): ProtoMessage {
  const shape = new ProtoMessage().message(1, new ProtoMessage().string(2, 'batch'));
  for (const d of dims) shape.message(1, new ProtoMessage().varint(1, d));
  const tensorType = new ProtoMessage().varint(1, FLOAT).message(2, shape);
  return new ProtoMessage().string(1, name).message(2, new ProtoMessage().message(1, tensorType));
}

/**
 * Encodes a model as an ONNX file.
 *
 * @throws UnsupportedLayerError naming a layer ONNX export does not know.
 * @example
 * const onnx = exportOnnx(await readModelFile('net.fpm'));
 * await writeFile('net.onnx', onnx);
 * // onnxruntime: session.run({ input: new ort.Tensor('float32', x, [n, 1, 96, 96]) }) -> { keypoints }
 */
export function exportOnnx(content: ModelContent, options: { producerVersion?: string } = {}): Uint8Array {
  const plan = exportPlan(content);
  const nodes: OnnxNode[] = [];
  const initializers: ProtoMessage[] = [];
  let current = ONNX_INPUT;
  let spatial = plan.spec.inputShape.length === 3;
  const add = (op: string, name: string, inputs: string[], attributes: ProtoMessage[] = []) => {
    const output = `${name}/${op.toLowerCase()}`;
    nodes.push({ op, name: `${name}/${op}`, inputs, output, attributes });
    current = output;
  };
  const weight = (tensor: NamedTensor) => {
    initializers.push(tensorProto(tensor.name, tensor));
    return tensor.name;
  };
  /** An int64 shape initializer (Reshape's second input; 0 keeps the batch dimension). */
  const shape = (name: string, dims: number[]) => {
    initializers.push(int64TensorProto(name, dims));
    return name;
  };
  const activation = (layer: { name: string; activation: string; leakiness: number }) => {
    if (layer.activation === 'relu') add('Relu', layer.name, [current]);
    else if (layer.activation === 'leakyRelu')
      add('LeakyRelu', layer.name, [current], [floatAttr('alpha', layer.leakiness)]);
  };
  for (const layer of inferenceLayers(plan)) {
    switch (layer.kind) {
      case 'input':
      case 'dropout':
        break;
      case 'conv2d': {
        const [top, bottom, left, right] = layer.padding;
        add(
          'Conv',
          layer.name,
          [current, weight(layer.tensors.W), weight(layer.tensors.b)],
          [
            intsAttr('kernel_shape', layer.kernelSize),
            intsAttr('strides', layer.stride),
            // ONNX order: [h_begin, w_begin, h_end, w_end].
            intsAttr('pads', [top, left, bottom, right]),
          ],
        );
        activation(layer);
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d':
        add(
          layer.kind === 'maxpool2d' ? 'MaxPool' : 'AveragePool',
          layer.name,
          [current],
          [
            intsAttr('kernel_shape', [layer.poolSize, layer.poolSize]),
            intsAttr('strides', [layer.poolSize, layer.poolSize]),
          ],
        );
        break;
      case 'globalavgpool':
        // [batch, C, 1, 1] -> [batch, C].
        add('GlobalAveragePool', layer.name, [current]);
        add('Flatten', layer.name, [current], [intAttr('axis', 1)]);
        spatial = false;
        break;
      case 'batchnorm':
        // Not after a linear conv / dense (those fold it): inference-mode BatchNormalization over axis 1.
        add(
          'BatchNormalization',
          layer.name,
          [current, ...['gamma', 'beta', 'mean', 'var'].map((p) => weight(layer.tensors[p]))],
          [floatAttr('epsilon', layer.epsilon)],
        );
        activation(layer);
        break;
      case 'dense':
        if (spatial) {
          add('Flatten', layer.name, [current], [intAttr('axis', 1)]);
          spatial = false;
        }
        add('Gemm', layer.name, [current, weight(layer.tensors.W), weight(layer.tensors.b)]);
        activation(layer);
        break;
      case 'softargmax': {
        // [batch, C, H, W] -> [batch, C, H*W] -> Softmax over the cells -> MatMul by the cell centres
        // [H*W, 2] -> [batch, C, 2] -> [batch, 2C] (x0, y0, x1, y1, ...).
        const [c, h, w] = layer.inputShape;
        add('Reshape', `${layer.name}/cells`, [current, shape(`${layer.name}/cells_shape`, [0, c, h * w])]);
        add('Softmax', layer.name, [current], [intAttr('axis', -1)]);
        const centres = { name: `${layer.name}/centres`, shape: [h * w, 2], data: softArgmaxCentres(layer) };
        add('MatMul', layer.name, [current, weight(centres)]);
        add('Reshape', `${layer.name}/points`, [current, shape(`${layer.name}/points_shape`, [0, 2 * c])]);
        spatial = false;
        break;
      }
      default:
        throw new UnsupportedLayerError(
          (layer as { name: string }).name,
          `layer kind '${(layer as { kind: string }).kind}' has no ONNX export`,
        );
    }
  }
  if (nodes.length === 0) {
    nodes.push({
      op: 'Identity',
      name: 'output/Identity',
      inputs: [current],
      output: ONNX_OUTPUT,
      attributes: [],
    });
  } else {
    nodes[nodes.length - 1].output = ONNX_OUTPUT;
  }

  const graph = new ProtoMessage();
  for (const node of nodes) {
    const proto = new ProtoMessage();
    for (const input of node.inputs) proto.string(1, input);
    proto.string(2, node.output).string(3, node.name).string(4, node.op);
    for (const attribute of node.attributes) proto.message(5, attribute);
    graph.message(1, proto);
  }
  graph.string(2, 'facepoints');
  for (const initializer of initializers) graph.message(5, initializer);
  graph.message(11, valueInfo(ONNX_INPUT, plan.spec.inputShape));
  graph.message(12, valueInfo(ONNX_OUTPUT, [plan.spec.outputSize]));

  const metadata = exportMetadata(plan, 'NCHW');
  const model = new ProtoMessage()
    .varint(1, IR_VERSION)
    .string(2, 'facepoints')
    .string(3, options.producerVersion ?? '')
    .message(7, graph)
    .message(8, new ProtoMessage().string(1, '').varint(2, OPSET));
  const props: Record<string, string> = {
    facepoints: JSON.stringify(metadata),
    schema: metadata.schema ?? '',
    columns: JSON.stringify(metadata.columns),
    flip_pairs: JSON.stringify(metadata.flipPairs),
    scaling: metadata.output.formula,
  };
  for (const [key, value] of Object.entries(props)) {
    model.message(14, new ProtoMessage().string(1, key).string(2, value));
  }
  return model.finish();
}
