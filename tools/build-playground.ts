/**
 * Builds dist/playground.html: one self-contained page (no request leaves it, file:// works) that
 * trains the lecture's deep network in a Web Worker with the project's own library.
 *
 *   npm run playground                 # writes dist/playground.html
 *   node --import tsx tools/build-playground.ts --out DIR
 *
 * Also run by `npm start` (tools/run-notebooks.js), after the notebooks. The page holds:
 *   - plotly.js-dist-min, as it is;
 *   - the page's script (playground/page.ts), with the worker's bundle in it as text (a Blob URL
 *     starts the worker: no second file to load);
 *   - the worker's bundle (playground/worker.ts and lib/, TensorFlow.js included, minified), with
 *     the WebAssembly kernels (lib/assembly/build/kernels.wasm and kernels-fma.wasm) inline and the names inline.
 */
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { loadNames } from '../lib/data/names';

const ROOT = path.resolve(__dirname, '..');
/** The page may not weigh more (plotly.js alone is 4.6 MB). */
export const MAX_BYTES = 8 * 1024 * 1024;

/**
 * Node-only modules that lib/ reaches only on node (inside a try, or where the browser does not go):
 * left out of the bundle, where requiring one throws.
 */
const NODE_ONLY = ['fs', 'path', 'os', 'crypto', 'child_process', 'tslab', 'tslab/*'];

async function bundle(entry: string, options: esbuild.BuildOptions): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, 'playground', entry)],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    logLevel: 'error',
    keepNames: true, // lib/nn/layers.ts names a layer by its class (Tanh, Linear), also in minified code
    ...options,
  });
  return result.outputFiles![0].text; // (there with write: false)
}

export async function buildPlayground(outDir: string): Promise<{ file: string; bytes: number }> {
  // The kernels, compiled when missing or older than their source.
  (require(path.join(ROOT, 'lib', 'assembly', 'build.js')) as { build(): boolean }).build();
  const words = await loadNames(); // MAKEMORE_NAMES, else data/names.txt (downloaded and checked)

  const workerCode = await bundle('worker.ts', {
    minify: true,
    external: NODE_ONLY,
    loader: { '.wasm': 'binary' },
    define: { NAMES_TEXT: JSON.stringify(words.join('\n')) },
  });
  const pageCode = await bundle('page.ts', { define: { WORKER_SOURCE: JSON.stringify(workerCode) } });
  const plotly = fs.readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');

  // (functions as replacements: the scripts contain `$` patterns that replace() would expand)
  const html = fs
    .readFileSync(path.join(ROOT, 'playground', 'playground.html'), 'utf8')
    .replace('<!-- plotly.js -->', () => `<script>${plotly}</script>`)
    .replace('<!-- page script -->', () => `<script>\n${pageCode}</script>`);
  const bytes = Buffer.byteLength(html);
  if (bytes > MAX_BYTES)
    throw new Error(
      `playground.html would weigh ${(bytes / 1e6).toFixed(1)} MB, more than ${MAX_BYTES / 1024 / 1024} MB`,
    );

  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'playground.html');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, html);
  fs.renameSync(tmp, file);
  return { file, bytes };
}

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const out = path.resolve(at > 0 ? process.argv[at + 1] : path.join(ROOT, 'dist'));
  const t0 = Date.now();
  buildPlayground(out).then(
    ({ file, bytes }) => {
      console.log(
        `[makemore] playground: ${path.relative(process.cwd(), file)} (${(bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    },
    (e) => {
      console.error(`[makemore] error: the playground was not built: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
