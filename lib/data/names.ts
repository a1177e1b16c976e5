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
 * And `loadData`: the names, the vocabulary and the lecture's split in one call (data.ts itself reads
 * no file, so that it runs in the browser too).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Split, Vocabulary, buildVocabulary, splitDataset } from './dataset';
import { DATA_DIR } from '../env/paths';

export const NAMES_URL = 'https://raw.githubusercontent.com/karpathy/makemore/master/names.txt';
export const NAMES_SHA256 = '0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d';
export const NAMES_BYTES = 228145;

/** The committed copy of names.txt. */
export const DEFAULT_NAMES_PATH = path.join(DATA_DIR, 'names.txt');

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function howToFix(dest: string): string {
  if (dest === process.env.MAKEMORE_NAMES) {
    return `Point MAKEMORE_NAMES at a copy of names.txt from https://github.com/karpathy/makemore (the file at the ` +
      `repository's root, ${NAMES_BYTES} bytes, SHA-256 ${NAMES_SHA256}), or unset it to use data/names.txt (committed with the project).`;
  }
  return `Get names.txt from https://github.com/karpathy/makemore (the file at the repository's root, ` +
    `${NAMES_BYTES} bytes, SHA-256 ${NAMES_SHA256}) and save it as ${dest}, ` +
    `or set MAKEMORE_NAMES=/path/to/names.txt to use a copy you have.`;
}

/**
 * Check that `bytes` are names.txt. `advice` says what to do with a wrong file: never to delete a file
 * the user pointed us at.
 */
function checkBytes(bytes: Buffer, what: string, dest: string, advice = ''): void {
  const digest = sha256(bytes);
  if (digest === NAMES_SHA256) return;
  // A copy checked out or saved on Windows: the right names with CRLF line endings.
  if (bytes.includes('\r\n') && sha256(Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')) === NAMES_SHA256) {
    throw new Error(`${what} has Windows line endings (CRLF): with LF line endings it is the expected names.txt. ` +
      `Convert it (e.g. \`sed -i 's/\\r$//' ${dest}\` or \`dos2unix ${dest}\`; with git, \`git config core.autocrlf false\` ` +
      'before checking it out keeps LF), or use a copy with LF line endings.');
  }
  throw new Error(`${what} is not the expected names.txt: ${bytes.length} bytes with SHA-256 ${digest}, ` +
    `expected ${NAMES_BYTES} bytes with SHA-256 ${NAMES_SHA256}.${advice} ${howToFix(dest)}`);
}

/**
 * The file `MAKEMORE_NAMES` names, checked: undefined when unset; an error for an empty value or a
 * folder, saying what is allowed.
 */
export function namesFileFromEnv(): string | undefined {
  const value = process.env.MAKEMORE_NAMES;
  if (value === undefined) return undefined;
  const allowed = 'set it to the path of names.txt (a file), or unset it to use data/names.txt, downloaded on first use.';
  if (value.trim() === '') throw new Error(`MAKEMORE_NAMES is set but empty: ${allowed}`);
  if (fs.existsSync(value) && fs.statSync(value).isDirectory()) {
    const inside = path.join(value, 'names.txt');
    throw new Error(`MAKEMORE_NAMES=${value} is a folder: ${allowed}` +
      (fs.existsSync(inside) ? ` (There is one in it: MAKEMORE_NAMES=${inside}.)` : ''));
  }
  return value;
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
  const fromEnv = options.file === undefined ? namesFileFromEnv() : undefined;
  const file = options.file ?? fromEnv ?? DEFAULT_NAMES_PATH;
  if (!fs.existsSync(file)) {
    if (fromEnv) throw new Error(`MAKEMORE_NAMES=${fromEnv}, but there is no such file. ${howToFix(fromEnv)}`);
    await downloadNames(options.url ?? process.env.MAKEMORE_NAMES_URL ?? NAMES_URL, file);
  }
  if (fs.statSync(file).isDirectory()) throw new Error(`${file} is a folder, not the names.txt file. ${howToFix(file)}`);
  const bytes = fs.readFileSync(file);
  // The committed copy can be restored from git; any other copy can be deleted to download it again.
  // The committed copy can be restored from git; a file the user named is theirs, never to be deleted.
  const ours = path.resolve(file) === DEFAULT_NAMES_PATH;
  checkBytes(bytes, fromEnv ? `MAKEMORE_NAMES=${file}` : file, file, ours ? ' Restore it with `git checkout data/names.txt`.' : '');
  return bytes.toString('utf8').split('\n').filter((w) => w.length > 0);
}

/** Everything the notebooks start from: the names, the vocabulary and the lecture's split. */
export async function loadData(blockSize = 3): Promise<{ words: string[]; vocab: Vocabulary } & Split> {
  const words = await loadNames();
  const vocab = buildVocabulary(words);
  return { words, vocab, ...splitDataset(words, blockSize, 42, vocab) };
}
