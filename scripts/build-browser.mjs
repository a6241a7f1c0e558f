// Builds what the browser loads into dist/web/: the page of `facepoints serve`
// (index.html + page.js), the browser module as one ES module
// (facepoints-browser.js, for a <script type="module"> without a bundler) and
// tfjs' .wasm files. Bundled by esbuild from the TypeScript sources for the
// browser platform, so any Node built-in in the graph fails the build.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** The tfjs wasm backend's binaries; the page and the bundle load them by URL from beside the scripts. */
export const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

/**
 * Bundles one entry (a path below the package root) for the browser.
 * Resolves to esbuild's result; with `outfile` unset, nothing is written and
 * the code is in `result.outputFiles`.
 */
export async function bundleForBrowser(entry, { outfile, minify = true } = {}) {
  const esbuild = await import('esbuild');
  return esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    ...(outfile ? { outfile, write: true } : { outdir: join(root, 'dist', 'web'), write: false }),
  });
}

/** Builds dist/web/ (or the same files into `out`). */
export async function buildWeb(out = join(root, 'dist', 'web')) {
  mkdirSync(out, { recursive: true });
  await bundleForBrowser('src/browser/page/main.ts', { outfile: join(out, 'page.js') });
  await bundleForBrowser('src/browser/index.ts', { outfile: join(out, 'facepoints-browser.js') });
  copyFileSync(join(root, 'src', 'browser', 'page', 'index.html'), join(out, 'index.html'));
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  for (const file of WASM_FILES) copyFileSync(join(wasmDir, 'dist', file), join(out, file));
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const out = await buildWeb();
    console.log(`facepoints: browser page and bundle built (${out}).`);
  } catch (error) {
    console.error(`facepoints: the browser build failed: ${error.message}`);
    process.exit(1);
  }
}
