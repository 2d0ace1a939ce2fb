/**
 * `npm run bench:bundles`: the size of every Lambda bundle as deployed, read from the assets that
 * `cdk synth` wrote. The default stack is read from `cdk.out` (run `npx cdk synth` first); the variant
 * with every optional function (SageMaker endpoint and Bedrock) is synthesized into
 * `cdk.out/bundles-endpoint`. Exits 1 when a bundle is 1 MiB or more. Source maps are listed apart:
 * they are deployed beside the code but never loaded unless an error is being reported.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const LIMIT_BYTES = 1024 * 1024;
const ROOT = path.join(__dirname, '..');
const STACK = 'Pipemend';
const ENDPOINT_VARIANT = { scorer: 'endpoint', bedrockModelId: 'anthropic.claude-test' };

export interface DeployedBundle {
  readonly logicalId: string;
  readonly handlerDir: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
}

type Template = {
  Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
};

/** Every Lambda function of a synthesized stack with the size of its bundled code. */
export function deployedBundles(cdkOut: string, stack = STACK): DeployedBundle[] {
  const templateFile = path.join(cdkOut, `${stack}.template.json`);
  if (!existsSync(templateFile)) throw new Error(`${templateFile} not found: run \`npx cdk synth\` first`);
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as Template;
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .flatMap(([logicalId, resource]) => {
      const asset = resource.Metadata?.['aws:asset:path'];
      if (typeof asset !== 'string') return []; // inline code (custom resources of aws-cdk-lib)
      const code = path.join(cdkOut, asset, 'index.js');
      if (!existsSync(code)) return [];
      const sourceMap = `${code}.map`;
      return [
        {
          logicalId,
          handlerDir: handlerDirOf(sourceMap),
          bytes: statSync(code).size,
          sourceMapBytes: existsSync(sourceMap) ? statSync(sourceMap).size : 0,
        },
      ];
    })
    .sort((a, b) => b.bytes - a.bytes);
}

/** The `lambda/<dir>/handler.ts` a bundle was built from, read from its source map. */
function handlerDirOf(sourceMap: string): string {
  if (!existsSync(sourceMap)) return '?';
  const { sources } = JSON.parse(readFileSync(sourceMap, 'utf8')) as { sources: string[] };
  const handler = sources.find((source) => /(^|\/)lambda\/[a-z-]+\/handler\.ts$/.test(source));
  return handler ? (/lambda\/([a-z-]+)\/handler\.ts$/.exec(handler)?.[1] ?? '?') : '?';
}

function synthesizeEndpointVariant(outdir: string): void {
  execFileSync(
    'npx',
    ['cdk', 'synth', '-q', '-o', outdir, '-c', `pipemend=${JSON.stringify(ENDPOINT_VARIANT)}`],
    { cwd: ROOT, stdio: 'pipe' },
  );
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

function main(): void {
  const defaultOut = path.join(ROOT, process.argv[2] ?? 'cdk.out');
  const endpointOut = path.join(defaultOut, 'bundles-endpoint');
  synthesizeEndpointVariant(endpointOut);
  const byHandler = new Map<string, DeployedBundle & { variants: string[] }>();
  for (const [variant, dir] of [
    ['default', defaultOut],
    ['endpoint + Bedrock', endpointOut],
  ] as const) {
    for (const bundle of deployedBundles(dir)) {
      // The larger of a function's bundles across the stacks it is in.
      const seen = byHandler.get(bundle.handlerDir);
      const variants = [...(seen?.variants ?? []), variant];
      const larger = seen && seen.bytes >= bundle.bytes ? seen : bundle;
      byHandler.set(bundle.handlerDir, { ...larger, variants });
    }
  }
  const rows = [...byHandler.values()].sort((a, b) => b.bytes - a.bytes);
  console.log('Command: npx cdk synth && npm run bench:bundles');
  console.log(`Lambda bundles in ${path.relative(ROOT, defaultOut)} (index.js of each function asset):\n`);
  console.log('| function (lambda/…) | bundle | source map | stacks | under 1 MiB |');
  console.log('| --- | ---: | ---: | --- | --- |');
  for (const row of rows) {
    const ok = row.bytes < LIMIT_BYTES ? 'yes' : '**NO**';
    console.log(
      `| ${row.handlerDir} | ${kib(row.bytes)} | ${kib(row.sourceMapBytes)} | ${row.variants.join(', ')} | ${ok} |`,
    );
  }
  const over = rows.filter((row) => row.bytes >= LIMIT_BYTES);
  if (over.length > 0) {
    console.error(`\n${over.length} bundle(s) of 1 MiB or more: ${over.map((r) => r.handlerDir).join(', ')}`);
    process.exitCode = 1;
  }
}

if (require.main === module) main();
