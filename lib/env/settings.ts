/**
 * Every setting and the data, checked at once: what `npm start` runs before it starts any kernel, so
 * that a wrong MAKEMORE_* value or a missing names.txt fails in seconds with one message instead of
 * in every notebook.
 */
import { readProfile } from './profile';
import { backendFromEnv, initBackend } from './backend';
import { compiling, fusing } from '../compile/step';
import { fusedMultiplyAdd } from '../compile/simd';
import { loadNames, namesFileFromEnv } from '../data/names';
import { resultsFile } from './results';

/** Check the settings, then the data (downloading it if missing) and the backend; throws the first problem. */
export async function checkSettings(): Promise<void> {
  readProfile();
  backendFromEnv();
  compiling();
  fusing();
  fusedMultiplyAdd();
  namesFileFromEnv();
  resultsFile();
  await loadNames();
  // Loads the backend the notebooks will use (MAKEMORE_BACKEND=tensorflow that does not load fails here).
  const log = console.log;
  console.log = () => undefined;
  try {
    await initBackend();
  } finally {
    console.log = log;
  }
}
