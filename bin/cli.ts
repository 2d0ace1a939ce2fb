/** The `pipemend` executable's entry point: `npm run build:cli` bundles it into dist/cli.js. */
import { main } from './pipemend';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
