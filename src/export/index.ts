/** Export to tfjs and ONNX (docs/export.md). */
export {
  EXPORT_FORMATS,
  UnsupportedLayerError,
  exportPlan,
  type ExportFormat,
  type ExportMetadata,
} from './export-plan.js';
export { exportOnnx, ONNX_INPUT, ONNX_OUTPUT } from './onnx.js';
export { exportTfjs, type TfjsExport, type TfjsModelJson } from './tfjs-layers.js';
export { writeExport, ONNX_FILE, TFJS_FILE } from './write-export.js';
