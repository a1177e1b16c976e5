/**
 * The data set: 32,033 names from karpathy/makemore (MIT licence), committed as data/names.txt and
 * checked by SHA-256 whenever it is read.
 *
 * Where the file comes from, in order:
 *   1. `MAKEMORE_NAMES=/path/to/names.txt`, a copy elsewhere (e.g. ../shared/data/names.txt);
 *   2. `data/names.txt` in the project (committed: a fresh clone needs no network);
 *   3. only if that file was deleted: a download from `NAMES_URL` (or `MAKEMORE_NAMES_URL`), checked
 *      by SHA-256 and written atomically (to a temporary file, then renamed), so a partial or wrong
 *      file is never kept.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export const NAMES_URL = 'https://raw.githubusercontent.com/karpathy/makemore/master/names.txt';
export const NAMES_SHA256 = '0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d';
export const NAMES_BYTES = 228145;

/** The project's root folder (where package.json is), found from this file. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_NAMES_PATH = path.join(PROJECT_ROOT, 'data', 'names.txt');

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function howToFix(dest: string): string {
  return `Get names.txt from https://github.com/karpathy/makemore (the file at the repository's root, ` +
    `${NAMES_BYTES} bytes, SHA-256 ${NAMES_SHA256}) and save it as ${dest}, ` +
    `or set MAKEMORE_NAMES=/path/to/names.txt to use a copy you have.`;
}

function checkBytes(bytes: Buffer, what: string, dest: string): void {
  const digest = sha256(bytes);
  if (digest !== NAMES_SHA256) {
    throw new Error(`${what} is not the expected names.txt: ${bytes.length} bytes with SHA-256 ${digest}, ` +
      `expected ${NAMES_BYTES} bytes with SHA-256 ${NAMES_SHA256}. ${howToFix(dest)}`);
  }
}

export interface LoadOptions {
  /** Where to keep the file (default: MAKEMORE_NAMES, else data/names.txt). */
  file?: string;
  /** Where to download it from when it is missing (default: MAKEMORE_NAMES_URL, else NAMES_URL). */
  url?: string;
}

/** Download `url` to `dest` atomically, after checking its SHA-256. */
export async function downloadNames(url: string, dest: string): Promise<void> {
  let bytes: Buffer;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    // fetch() hides the reason (ECONNREFUSED, ENOTFOUND ...) in the error's cause.
    const cause = (e as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
    throw new Error(`Could not download names.txt from ${url} (${why}). ${howToFix(dest)}`);
  }
  checkBytes(bytes, `The file downloaded from ${url}`, dest);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, dest);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Read the names (one per line), downloading and verifying the file first if it is missing. */
export async function loadNames(options: LoadOptions = {}): Promise<string[]> {
  const fromEnv = process.env.MAKEMORE_NAMES;
  const file = options.file ?? fromEnv ?? DEFAULT_NAMES_PATH;
  if (!fs.existsSync(file)) {
    if (options.file === undefined && fromEnv) {
      throw new Error(`MAKEMORE_NAMES=${fromEnv}, but there is no such file. ${howToFix(fromEnv)}`);
    }
    await downloadNames(options.url ?? process.env.MAKEMORE_NAMES_URL ?? NAMES_URL, file);
  }
  const bytes = fs.readFileSync(file);
  // The committed copy can be restored from git; any other copy can be deleted to download it again.
  const fix = path.resolve(file) === DEFAULT_NAMES_PATH ? 'restore it with `git checkout data/names.txt`' : 'delete it to download it again';
  checkBytes(bytes, `${file} (${fix})`, file);
  return bytes.toString('utf8').split('\n').filter((w) => w.length > 0);
}
