/**
 * The local server of `facepoints serve`: the page, its scripts and tfjs'
 * .wasm files from the package's dist/web/ (built by scripts/build-browser.mjs),
 * and the model at /model.fpm. Nothing is fetched from elsewhere, so the page
 * works offline. Only the listed files are served (no paths from the URL
 * reach the file system), and by default only on the loopback interface.
 */
import { readFile, stat } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError, ModelFileError } from '../errors.js';
import { parseModelFile } from '../train/model-file.js';

/** dist/web/, from src/serve/ or dist/serve/ alike (both two levels below the package root). */
export const WEB_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.fpm': 'application/octet-stream',
};

/** The files of dist/web/ the page needs, by URL path. */
const WEB_FILES = [
  'index.html',
  'page.js',
  'facepoints-browser.js',
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

export interface ServeOptions {
  /** A model file, or a run folder (its model-best.fpm). */
  model: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default '127.0.0.1' (this machine only). */
  host?: string;
  /** Folder with the built page; default the package's dist/web/. */
  webDir?: string;
}

export interface RunningServer {
  /** The page's address, e.g. http://127.0.0.1:8080/ */
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function modelBytes(path: string): Promise<{ file: string; bytes: Uint8Array }> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'model-best.fpm');
  } catch {
    throw new ModelFileError(path, 'no such file');
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new ModelFileError(file, 'no such file (a run folder has model-best.fpm)');
  }
  const content = parseModelFile(bytes, file);
  if (typeof (content.metadata as { schema?: unknown }).schema !== 'string') {
    throw new ModelFileError(
      file,
      'the model does not say which keypoints it predicts (no schema in its metadata)',
    );
  }
  return { file, bytes };
}

/**
 * Starts the server; the model is read and checked once, at start.
 *
 * @throws ModelFileError for a model the page could not use; ConfigError when the page is not built.
 * @example
 * const { url, close } = await startServer({ model: 'runs/net2', port: 0 });
 * // open url in a browser ... then: await close();
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const model = await modelBytes(options.model);
  const webDir = options.webDir ?? WEB_DIR;
  const files = new Map<string, { type: string; body: Uint8Array }>();
  for (const name of WEB_FILES) {
    let body: Uint8Array;
    try {
      body = await readFile(join(webDir, name));
    } catch {
      throw new ConfigError(`${join(webDir, name)} is missing: build the page with 'npm run build:ts'`);
    }
    files.set(`/${name}`, { type: TYPES[name.slice(name.lastIndexOf('.'))], body });
  }
  files.set('/', files.get('/index.html')!);
  files.set('/model.fpm', { type: TYPES['.fpm'], body: model.bytes });

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = files.get(path);
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !file) {
      response.writeHead(file ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(file ? 'method not allowed\n' : 'not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : file.body);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(`port ${options.port} is in use: pick another with --port`)
          : error,
      ),
    );
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
