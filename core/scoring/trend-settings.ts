/**
 * What an installation may choose of the trend test (`assessTrend`): the `trend` key of the `pipemend`
 * context, the scorer's `TREND_SETTINGS` variable and `pipemend replay --trend`. One schema for all
 * three: a setting the replay accepts deploys as it is, and one the stack refuses never reaches the
 * scorer. The rest of `TrendOptions` (windows, reference) stays fixed: the history the scorer reads for
 * the test (`TREND_HISTORY`) is sized for it.
 */
import * as z from 'zod/mini';

import { TREND_FEATURES } from './trend';
import '../../lambda/shared/zod-messages';

/** Below this the test would flag a day of ordinary builds every few days on a busy project. */
const MIN_TREND_Z = 2;

export const trendSettingsSchema = z.strictObject({
  /** Features whose creep is tested; `[]` turns the test off. @default ['memoryUtilizedPercent'] */
  features: z.optional(
    z.array(z.enum(TREND_FEATURES)).check(
      z.refine((features) => new Set(features).size === features.length, {
        error: 'lists a feature more than once',
      }),
    ),
  ),
  /** Mean rise of the last day's builds needed, in robust scales of the reference. @default 1.2 */
  minShift: z.optional(z.number().check(z.positive())),
  /** Significance needed: mean rise × √builds. @default 4 */
  minZ: z.optional(z.number().check(z.gte(MIN_TREND_Z))),
});

export type TrendSettings = z.infer<typeof trendSettingsSchema>;

/** A bad trend setting; the message names the field and what was wrong with it. */
export class TrendSettingsError extends Error {
  override readonly name = 'TrendSettingsError';
}

/**
 * Validates trend settings from any source; `source` (the prop, the variable, the option) starts the
 * message, then each problem with its field.
 */
export function parseTrendSettings(value: unknown, source: string): TrendSettings {
  const parsed = trendSettingsSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message,
  );
  throw new TrendSettingsError(`${source}: ${problems.join('; ')}`);
}
