import { parseTrendSettings, TrendSettingsError } from '../../../core/scoring/trend-settings';

describe('parseTrendSettings', () => {
  test('returns the features, minShift and minZ it is given', () => {
    const settings = { features: ['memoryUtilizedPercent', 'buildSeconds'], minShift: 1.5, minZ: 5 };
    expect(parseTrendSettings(settings, 'trend')).toEqual(settings);
  });

  test('an empty feature list is accepted: it turns the test off', () => {
    expect(parseTrendSettings({ features: [] }, 'trend')).toEqual({ features: [] });
  });

  test('refuses a feature the test cannot follow, naming the source, the field and the allowed ones', () => {
    expect(() => parseTrendSettings({ features: ['cpuUtilizedPercent'] }, 'trend')).toThrow(
      new TrendSettingsError(
        'trend: features.0: Invalid option: expected one of "memoryUtilizedPercent"|"buildSeconds"|"durationSeconds"|"queuedSeconds"',
      ),
    );
  });

  test('refuses a feature listed twice', () => {
    expect(() => parseTrendSettings({ features: ['buildSeconds', 'buildSeconds'] }, 'trend')).toThrow(
      'trend: features: lists a feature more than once',
    );
  });

  test('refuses a minZ below 2 and a minShift that is not positive, each with its field', () => {
    expect(() => parseTrendSettings({ minZ: 1.5, minShift: 0 }, 'trend')).toThrow(
      'trend: minShift: Too small: expected number to be >0; minZ: Too small: expected number to be >=2',
    );
  });

  test('refuses keys it does not know (a window the scorer does not read enough history for)', () => {
    expect(() => parseTrendSettings({ windowHours: 48 }, 'trend')).toThrow(
      'trend: Unrecognized key: "windowHours"',
    );
  });
});
