// Types of build-browser.mjs, for the tests and benchmarks that import it.
import type { BuildResult, Metafile, OutputFile } from 'esbuild';

export const WASM_FILES: string[];
export function bundleForBrowser(
  entry: string,
  options?: { outfile?: string; minify?: boolean },
): Promise<BuildResult & { metafile: Metafile; outputFiles?: OutputFile[] }>;
export function buildWeb(out?: string): Promise<string>;
