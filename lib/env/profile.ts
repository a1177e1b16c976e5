/**
 * The run profile, read from `MAKEMORE_PROFILE`:
 *   full  (default) the lecture's step counts: 200,000 steps of training;
 *   quick small step counts, for tests and CI: the same code path, fewer steps.
 */
import { SETTINGS, envChoice } from '../check';

export type ProfileName = 'full' | 'quick';

/** The profile `MAKEMORE_PROFILE` asks for (checked: one message lists the allowed values). */
export function readProfile(): ProfileName {
  return envChoice('MAKEMORE_PROFILE', SETTINGS.MAKEMORE_PROFILE, 'the same as full') ?? 'full';
}

export const PROFILE: ProfileName = readProfile();

/** The number that belongs to the current profile: `byProfile({ full: 200000, quick: 2000 })`. */
export function byProfile<T>(choices: Record<ProfileName, T>): T {
  return choices[PROFILE];
}
