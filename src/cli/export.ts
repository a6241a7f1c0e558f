/** `facepoints export`: a model as a tfjs LayersModel or an ONNX file, for other runtimes. */
import { Command, Option } from 'commander';

import { EXPORT_FORMATS, type ExportFormat } from '../export/export-plan.js';
import { writeExport } from '../export/write-export.js';
import { type CliContext, println } from './io.js';

export function exportCommand(ctx: CliContext): Command {
  return new Command('export')
    .summary('write a model as a tfjs LayersModel or an ONNX file')
    .description(
      'Writes the model for other runtimes: --format tfjs gives model.json and weight shards for tf.loadLayersModel ' +
        '(input NHWC [n, 96, 96, 1]); --format onnx gives model.onnx (opset 13, input NCHW [n, 1, 96, 96], dynamic batch). ' +
        'Both carry the keypoint schema, flip pairs and the scaling (pixel = v * 48 + 48) as metadata.',
    )
    .argument('<model>', 'model file (.fpm) or run folder')
    .addOption(new Option('--format <format>', 'tfjs or onnx').choices(EXPORT_FORMATS).makeOptionMandatory())
    .requiredOption('--out <dir>', 'folder to write into (created if missing)')
    .addHelpText(
      'after',
      '\nExamples:\n  facepoints export runs/net2 --format tfjs --out web-model/\n  facepoints export model.fpm --format onnx --out onnx/',
    )
    .action(async (model: string, o: { format: ExportFormat; out: string }) => {
      const written = await writeExport(model, o.format, o.out);
      for (const path of written) println(ctx.stdout, `wrote ${path}`);
    });
}
