/**
 * Where the project's files are: the project's root folder (the one holding `lib/`, `data/`, `dist/`),
 * and below it the data and the build products. The notebooks' kernel runs from the root too.
 */
import * as path from 'path';

/** The project's root folder (two levels above this file: lib/env/ -> lib/ -> the root). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** `data/`: names.txt and the lecture's reference values (`lecture.json`), both committed. */
export const DATA_DIR = path.join(PROJECT_ROOT, 'data');

/** `dist/`: build products (executed notebooks, results, checkpoints). */
export const DIST_DIR = path.join(PROJECT_ROOT, 'dist');
