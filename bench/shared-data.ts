import * as path from 'node:path';

/**
 * The reference data beside the project (`../shared/data`: NAB series, CI logs with labelled error
 * lines). Benchmarks and the tests that use real data read it from here and skip when it is absent.
 */
export function sharedDataPath(...segments: string[]): string {
  return path.resolve(__dirname, '..', '..', 'shared', 'data', ...segments);
}
