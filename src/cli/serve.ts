/** `facepoints serve`: a local web page that runs a model on photos or the webcam. */
import { Command, InvalidArgumentError } from 'commander';

import { startServer } from '../serve/server.js';
import { type CliContext, println } from './io.js';

/** `--port 8080`: 0 to 65535. */
function parsePort(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value > 65535)
    throw new InvalidArgumentError('expected a port from 0 to 65535.');
  return value;
}

export function serveCommand(ctx: CliContext): Command {
  return new Command('serve')
    .summary('a local web page that finds the keypoints of photos or webcam frames')
    .description(
      'Starts a web server with a page to drop or pick a photo, or use the webcam; it draws the keypoints, shows the time per face ' +
        'and downloads the points as JSON or CSV. The model runs in the browser (tfjs, wasm); every file comes from this package, ' +
        'so it works offline. Listens on 127.0.0.1 unless --host says otherwise. Stop it with Ctrl-C.',
    )
    .argument('<model>', 'model file (.fpm) or run folder')
    .option('--port <n>', 'port to listen on (0: any free one)', parsePort, 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .addHelpText(
      'after',
      '\nExample:\n  facepoints serve runs/net2 --port 8080   # then open http://127.0.0.1:8080/',
    )
    .action(async (model: string, o: { port: number; host: string }) => {
      const running = await startServer({ model, port: o.port, host: o.host });
      println(ctx.stdout, `facepoints: serving ${model} at ${running.url} (Ctrl-C stops)`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        running.server.once('close', () => resolve());
      });
    });
}
