#!/usr/bin/env node
// The installed `pipemend` command: the CLI bundled by `npm run build:cli` (run by `npm ci` and `npm pack`).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `pipemend: needs Node.js 22 or later, this is ${process.version}. Install Node.js 22+ (or run it once with \`npx -p node@22 pipemend ...\`).\n`,
  );
  process.exit(1);
}
require('../dist/cli.js');
