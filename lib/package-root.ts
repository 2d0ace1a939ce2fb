import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/**
 * The folder of Pipemend's package.json: the repository, or `node_modules/pipemend` once installed.
 * Code runs from `lib/` (sources), `dist/lib/` (compiled) or `dist/` (the bundled CLI), so paths to
 * the package's own files start here rather than at a fixed number of `..` from `__dirname`.
 */
export function packageRoot(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'pipemend'
    ) {
      cached = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no pipemend package.json above ${__dirname}`);
  }
}
