#!/usr/bin/env node
// The installed `pipemend` command: the CLI bundled by `npm run build:cli` (run by `npm ci` and `npm pack`).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // Said once, and carried on: --help, detect and the AWS commands run; replay names what it needs.
  process.stderr.write(`pipemend: Node.js 22 or later is supported, this is ${process.version}.\n`);
}
require('../dist/cli.js');
