/** Where tests find the data (committed in data/) and the shared reference material (../shared beside the project). */
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHARED = process.env.MAKEMORE_SHARED ?? path.resolve(ROOT, '..', 'shared');
export const NAMES_FILE = process.env.MAKEMORE_NAMES ?? path.join(ROOT, 'data', 'names.txt');
export const TORCH_REFERENCE = path.join(SHARED, 'fixtures', 'torch-reference.json');
