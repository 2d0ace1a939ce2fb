#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step): tsx registers the TypeScript loader.
require('tsx/cjs');
require('./pipemend.ts');
