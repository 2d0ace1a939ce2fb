/**
 * `npm run build:lib` step: bundles every `lambda/<dir>/handler.ts` into dist/lambda-bundles/<dir>/ with
 * the deployed functions' esbuild settings, so the packed package synthesizes without esbuild.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';

import { packageRoot } from '../lib/package-root';
import { bundleHandler } from '../lib/pipemend-function';

const root = packageRoot();
const out = path.join(root, 'dist', 'lambda-bundles');
rmSync(out, { recursive: true, force: true });
const handlers = readdirSync(path.join(root, 'lambda')).filter((dir) =>
  existsSync(path.join(root, 'lambda', dir, 'handler.ts')),
);
for (const dir of handlers) bundleHandler(path.join(root, 'lambda', dir, 'handler.ts'), path.join(out, dir));
console.log(`bundled ${handlers.length} functions into ${path.relative(root, out)}/`);
