/**
 * The run profile, read from `MAKEMORE_PROFILE`:
 *   full  (default) the lecture's step counts: 200,000 steps of training;
 *   quick small step counts, for tests and CI: the same code path, fewer steps.
 */
export type ProfileName = 'full' | 'quick';

function readProfile(): ProfileName {
  const p = process.env.MAKEMORE_PROFILE ?? 'full';
  if (p !== 'full' && p !== 'quick') {
    throw new Error(`MAKEMORE_PROFILE=${p} is not a run profile: use full (the lecture's step counts) or quick.`);
  }
  return p;
}

export const PROFILE: ProfileName = readProfile();

/** The number that belongs to the current profile: `byProfile({ full: 200000, quick: 2000 })`. */
export function byProfile<T>(choices: Record<ProfileName, T>): T {
  return choices[PROFILE];
}
