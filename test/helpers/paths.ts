/** Where tests find the shared reference material (../shared beside the project). */
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHARED = process.env.MAKEMORE_SHARED ?? path.resolve(ROOT, '..', 'shared');
export const NAMES_FILE = path.join(SHARED, 'data', 'names.txt');
export const TORCH_REFERENCE = path.join(SHARED, 'fixtures', 'torch-reference.json');
