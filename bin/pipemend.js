#!/usr/bin/env node
// The installed `pipemend` command: the CLI bundled by `npm run build:cli` (run by `npm ci` and `npm pack`).
require('../dist/cli.js');
