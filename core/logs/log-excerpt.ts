/**
 * Failure excerpt selection: from a failed build's log (thousands of lines) choose at most `budget` lines
 * that hold the error messages, so that a model (or a human) sees the evidence and little else.
 *
 * How: lines are cleaned (colours and CI timestamp prefixes removed); lines matching an error signature
 * start blocks that extend over their stack traces, indented compiler notes and same-level continuation
 * lines; when the last passing build's log is known, blocks whose error lines also occur there (after
 * normalising timestamps, numbers, ids, hashes and paths) are noise that the passing build had too;
 * repeated lines are dropped; blocks are ranked and packed into the budget, each keeping at least its
 * first line and the best-ranked ones kept whole.
 */
import { ErrorSignature, matchSignature, SignatureMatch } from './error-signatures';
import { analyseLogStructure, inFailingStep, LogStructure } from './log-structure';

export const DEFAULT_EXCERPT_BUDGET = 50;
export const MAX_EXCERPT_BUDGET = 1000;

export interface ExcerptOptions {
  /**
   * At most this many lines.
   * @default 50
   */
  readonly budget?: number;
}

export interface ExcerptBlock {
  /** 1-based first and last line of the block in the failed log. */
  readonly start: number;
  readonly end: number;
  /** The strongest signature that started or continued the block. */
  readonly signature: ErrorSignature;
  /** Whether the block's error lines are absent from the passing log (always true without one). */
  readonly novel: boolean;
}

export interface LogExcerpt {
  /** 1-based line numbers of the chosen lines, ascending. */
  readonly lines: number[];
  /** The chosen lines, cleaned of colours and CI timestamp prefixes, one per line. */
  readonly text: string;
  /** Blocks that contributed at least one line, best-ranked first. */
  readonly blocks: ExcerptBlock[];
  /** Signature matches on the chosen lines, best-ranked block first. */
  readonly matches: SignatureMatch[];
  /** Lines in the failed log. */
  readonly totalLines: number;
}

/** Lines before and after a chosen block added as context when the budget allows (without a passing log). */
const CONTEXT_LINES: readonly [number, number] = [3, 2];

/** Later blocks of the failing step that keep a first line while the best-ranked block is packed. */
const MAX_RESERVED = 10;

export class InvalidExcerptBudgetError extends Error {
  override readonly name = 'InvalidExcerptBudgetError';
}

/** Splits like CI log viewers do: `\r\n`, `\n` and a lone `\r` (progress output) all end a line. */
export function splitLogLines(log: string): string[] {
  return log.split(/\r\n|\r|\n/);
}

// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;
const CI_PREFIXES = [
  // GitHub Actions (raw: `<ts> `; full: `<job>\t<step>\t<ts> `).
  /^(?:[^\t]*\t){0,2}\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?/,
  // CodeBuild: `[Container] 2024/05/01 12:00:00.123456 `.
  /^\[Container\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? /,
  // Generic leading timestamps: `2024-05-01 12:00:00,123 ` or `[12:00:00] `.
  /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})? /,
  /^\[\d{2}:\d{2}:\d{2}(?:\.\d+)?\] /,
  // Docker BuildKit step output: `#7 0.512 `.
  /^#\d+ (?:\d+\.\d+ )?/,
];

/** A line without colours and CI timestamp prefixes; indentation is kept (it marks continuations). */
export function cleanLine(raw: string): string {
  let line = raw.replace(ANSI_ESCAPE, '');
  for (const prefix of CI_PREFIXES) line = line.replace(prefix, '');
  return line.trimEnd();
}

// Upper case as Maven and most loggers print it, lower case as sbt does (`[error]`, `[warn]`, `[info]`).
const LEVEL_TAG = /^\[(ERROR|FATAL|WARN|WARNING|INFO|DEBUG|TRACE|error|warn|info|debug|success)\]\s?/;

/**
 * The comparison key for diffing against the passing log: timestamps, dates, durations, UUIDs, hashes,
 * hex ids, temporary paths and numbers replaced by placeholders, whitespace collapsed.
 */
export function normaliseLine(clean: string): string {
  return clean
    .replace(/\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<ts>')
    .replace(/\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b/g, '<time>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,64}\b/gi, '<hash>')
    .replace(/\/(?:tmp|var\/folders|private\/var)\/[^\s:'")]+/g, '<tmp>')
    .replace(/\d+(?:\.\d+)*/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The key for dropping repetition: the line without its log-level tag and with whitespace collapsed. */
function repetitionKey(clean: string): string {
  return clean.replace(LEVEL_TAG, '').replace(/\s+/g, ' ').trim();
}

interface AnalysedLine {
  readonly clean: string;
  /** The line without its log-level tag. */
  readonly body: string;
  readonly tag: string | undefined;
  readonly signature: ErrorSignature | undefined;
}

const COMMAND_ECHO = /^\$ \S/;
const LOUD_AT_ANY_LEVEL = /\*\*\* FAILED \*\*\*/;
const COMMAND_RESULT = /^The command ".*" (exited with|failed)/;

function analyse(raw: string): AnalysedLine {
  const clean = cleanLine(raw);
  const tag = LEVEL_TAG.exec(clean)?.[1]?.toUpperCase();
  const body = clean.replace(LEVEL_TAG, '');
  // Informational and warning lines never start a block: passing builds are full of them.
  // (ScalaTest reports its failures at info level, in its own words: those still count.)
  const quiet = tag !== undefined && tag !== 'ERROR' && tag !== 'FATAL' && !LOUD_AT_ANY_LEVEL.test(body);
  // Echoed commands (`$ grep -q '0 failed' log`) are what ran, not what happened; a CI system's report
  // of a command's result is read without the command's own text.
  const text = COMMAND_RESULT.test(body) ? body.replace(/".*"/, '"…"') : body;
  const signature =
    quiet || body.trim() === '' || COMMAND_ECHO.test(body)
      ? undefined
      : (matchSignature(text) ?? (text === body ? matchSignature(clean) : undefined));
  return { clean, body, tag, signature };
}

const STACK_FRAME =
  /^\s+at\s|^\s*\.\.\. \d+ (more|common frames omitted)|^\s*(Caused by|Suppressed): |^\s+File ".*", line \d+/;

const GUTTERS = [/^npm ERR!/, /^│/];

function isBlank(line: AnalysedLine): boolean {
  return line.body.trim() === '';
}

/** Whether `line` continues the block whose previous line is `previous` (same error, more detail). */
function continues(line: AnalysedLine, previous: AnalysedLine, blockTag: string | undefined): boolean {
  if (line.signature) return true;
  if (STACK_FRAME.test(line.body)) return true;
  if (/^(stdout|stderr):/.test(line.body)) return true;
  // Indented detail under an error (compiler notes, assertion diffs, Python source lines).
  if (/^\s+\S/.test(line.body) && !isBlank(previous)) return true;
  // Source excerpts under compiler errors (`2 |     code`, `  = help: ...`), as rustc and others print.
  if (/^\s*\d*\s*\|(\s|$)|^\s*= (note|help):/.test(line.body)) return true;
  // Build tools that prefix every line of an error report (Maven `[ERROR]`, npm `npm ERR!`, Terraform `│`).
  if (blockTag !== undefined && line.tag === blockTag) return true;
  return GUTTERS.some((gutter) => gutter.test(line.clean) && gutter.test(previous.clean));
}

interface Block {
  readonly start: number;
  readonly end: number;
  readonly signature: ErrorSignature;
  readonly novel: boolean;
}

/** Lines of detail without a signature or stack frame after which a block ends. */
const MAX_DETAIL_LINES = 15;

/** The last output of a failing step: where a failure usually shows when no line names it. */
export const FAILING_STEP_OUTPUT: ErrorSignature = {
  id: 'failing-step-output',
  category: 'unknown',
  pattern: /(?!)/,
  weight: 2,
  title: 'The last output of the failing step',
  guidance: 'Read the last lines the failing step printed before it exited.',
};

function findBlocks(lines: AnalysedLine[], isNovel: (index: number) => boolean): Block[] {
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const first = lines[index]!;
    if (!first.signature) {
      index += 1;
      continue;
    }
    const start = index;
    let end = index;
    let signature = first.signature;
    let novel = isNovel(index);
    let sinceEvidence = 0;
    for (let next = index + 1; next < lines.length; next += 1) {
      const line = lines[next]!;
      // Detail under an error is short; a long run of indented lines is a dump (objects, config), not detail.
      sinceEvidence = line.signature || STACK_FRAME.test(line.body) ? 0 : sinceEvidence + 1;
      if (sinceEvidence > MAX_DETAIL_LINES) break;
      if (isBlank(line) && !line.tag) {
        // A blank line inside a stack trace (between a frame and `Caused by`) does not end it.
        const after = lines[next + 1];
        if (after && STACK_FRAME.test(after.body)) continue;
        break;
      }
      if (!continues(line, lines[next - 1]!, first.tag)) break;
      end = next;
      if (line.signature) {
        if (line.signature.weight > signature.weight) signature = line.signature;
        novel ||= isNovel(next);
      }
    }
    blocks.push({ start, end, signature, novel });
    index = end + 1;
  }
  return blocks;
}

/**
 * Ranks blocks: lines that name a cause beat lines that only report failure; among equals the later
 * block wins, because a build's final errors are the ones that failed it.
 */
function rankBlocks(blocks: Block[], tier: (block: Block) => number): Block[] {
  return [...blocks].sort(
    (a, b) => tier(a) - tier(b) || b.signature.weight - a.signature.weight || b.start - a.start,
  );
}

/**
 * Where a block lies in the log's structure: 0 in a failing step, 1 elsewhere before the failure, 2 in
 * the post-failure epilogue (after-failure scripts, cache uploads, clean-up).
 */
function structuralTier(structure: LogStructure, block: Block): number {
  for (let index = block.start; index <= block.end; index += 1) {
    if (inFailingStep(structure, index)) return 0;
  }
  if (structure.epilogueStart !== undefined && block.start >= structure.epilogueStart) return 2;
  return 1;
}

/** The last non-blank lines of each failing step, its failure report included. */
function failingStepTails(
  lines: AnalysedLine[],
  structure: LogStructure,
  isNovel: (index: number) => boolean,
  size: number,
): Block[] {
  const tails: Block[] = [];
  for (const step of structure.failingSteps) {
    let start = step.end;
    let count = 0;
    for (let index = step.end; index >= step.start && count < size; index -= 1) {
      if (isBlank(lines[index]!)) continue;
      start = index;
      count += 1;
    }
    if (count === 0) continue;
    let novel = false;
    for (let index = start; index <= step.end; index += 1) novel ||= isNovel(index);
    tails.push({ start, end: step.end, signature: FAILING_STEP_OUTPUT, novel });
  }
  return tails;
}

/** Selects the failure excerpt of `failLog`, diffed against `passLog` when given. */
export function selectFailureExcerpt(
  failLog: string,
  passLog?: string,
  options: ExcerptOptions = {},
): LogExcerpt {
  const budget = options.budget ?? DEFAULT_EXCERPT_BUDGET;
  if (!Number.isInteger(budget) || budget < 1 || budget > MAX_EXCERPT_BUDGET) {
    throw new InvalidExcerptBudgetError(
      `budget must be an integer between 1 and ${MAX_EXCERPT_BUDGET}, got ${String(budget)}`,
    );
  }
  const lines = splitLogLines(failLog).map(analyse);
  const passKeys =
    passLog === undefined
      ? undefined
      : new Set(splitLogLines(passLog).map((raw) => normaliseLine(cleanLine(raw))));
  const isNovel = (index: number): boolean => !passKeys?.has(normaliseLine(lines[index]!.clean));

  const structure = analyseLogStructure(lines.map((line) => line.clean));
  const tier = (block: Block): number => structuralTier(structure, block);
  const errorBlocks = findBlocks(lines, isNovel);
  // The failing step's last lines are where a failure shows when no line names it; without a passing
  // log to tell new errors from routine ones, they are evidence in any case.
  const causeInFailingStep = errorBlocks.some(
    (block) => block.novel && block.signature.weight === 3 && tier(block) === 0,
  );
  const allBlocks = [
    ...errorBlocks,
    // Only where the CI system's markers delimit the step: elsewhere the log's end is no step's end.
    ...(structure.system !== 'unknown' && (passKeys === undefined || !causeInFailingStep)
      ? failingStepTails(lines, structure, isNovel, Math.max(2, Math.ceil(budget / 4)))
      : []),
  ];
  const novelBlocks = allBlocks.filter((block) => block.novel);
  // Without a novel error the passing log explains nothing away: fall back to every error block.
  const candidates = rankBlocks(novelBlocks.length > 0 ? novelBlocks : allBlocks, tier);

  const chosen = new Set<number>();
  const seen = new Set<string>();
  const freshLines = (block: Block): number[] => {
    const fresh: number[] = [];
    for (let index = block.start; index <= block.end; index += 1) {
      const line = lines[index]!;
      if (isBlank(line)) continue;
      // A failing step's tail keeps only what the passing build did not print.
      if (block.signature === FAILING_STEP_OUTPUT && !isNovel(index)) continue;
      const key = repetitionKey(line.clean);
      if (seen.has(key)) continue;
      seen.add(key);
      fresh.push(index);
    }
    return fresh;
  };
  // Repetition is dropped: of a line printed several times, the copy in the failing step is kept, and
  // among copies at the same place in the structure the first. Error blocks claim their lines before
  // the failing steps' tails, which only add what no error block holds.
  const synthetic = (block: Block): number => (block.signature === FAILING_STEP_OUTPUT ? 1 : 0);
  const freshByBlock = new Map(
    [...candidates]
      .sort((a, b) => synthetic(a) - synthetic(b) || tier(a) - tier(b) || a.start - b.start)
      .map((block) => [block, freshLines(block)]),
  );
  const contributing = candidates
    .map((block) => ({ block, fresh: freshByBlock.get(block) ?? [] }))
    .filter((entry) => entry.fresh.length > 0);

  // The best-ranked blocks take up to most of the budget each, keeping a first line for the next ones in
  // the failing step (at most MAX_RESERVED of them); what is left then goes to the best-ranked again.
  const usedBlocks: Block[] = [];
  let remaining = budget;
  const cap = Math.max(1, Math.ceil(budget * 0.6));
  const taken = new Map<Block, number>();
  contributing.forEach((entry, position) => {
    if (remaining <= 0) return;
    const laterPrimary = contributing.slice(position + 1).filter((later) => tier(later.block) === 0).length;
    const reserveForLater = Math.min(laterPrimary, MAX_RESERVED, remaining - 1);
    const take = Math.min(entry.fresh.length, remaining - reserveForLater, cap);
    if (take <= 0) return;
    for (const index of entry.fresh.slice(0, take)) chosen.add(index);
    taken.set(entry.block, take);
    remaining -= take;
    usedBlocks.push(entry.block);
  });
  for (const entry of contributing) {
    if (remaining <= 0) break;
    const already = taken.get(entry.block);
    if (already === undefined) continue;
    const more = entry.fresh.slice(already, already + remaining);
    for (const index of more) chosen.add(index);
    remaining -= more.length;
  }

  // Budget left and no passing log to sharpen the choice: the lines around the best-ranked blocks of a
  // recognised failing step (a test's name above its assertion, the statement under a compiler error),
  // nearest first.
  const [before, after] = passKeys === undefined && structure.system !== 'unknown' ? CONTEXT_LINES : [0, 0];
  for (const block of usedBlocks) {
    if (remaining <= 0) break;
    if (tier(block) !== 0) continue;
    const around: number[] = [];
    for (let distance = 1; distance <= Math.max(before, after); distance += 1) {
      if (distance <= before) around.push(block.start - distance);
      if (distance <= after) around.push(block.end + distance);
    }
    for (const index of around) {
      if (remaining <= 0) break;
      const line = lines[index];
      if (!line || isBlank(line) || chosen.has(index) || !isNovel(index)) continue;
      const key = repetitionKey(line.clean);
      if (seen.has(key)) continue;
      seen.add(key);
      chosen.add(index);
      remaining -= 1;
    }
  }

  if (chosen.size === 0) {
    for (const index of fallbackLines(lines, isNovel, budget)) chosen.add(index);
  }

  const ordered = [...chosen].sort((a, b) => a - b);
  const matches: SignatureMatch[] = [];
  for (const block of usedBlocks) {
    for (let index = block.start; index <= block.end; index += 1) {
      const signature = lines[index]!.signature;
      if (signature && chosen.has(index)) matches.push({ signature, line: index + 1 });
    }
  }
  return {
    lines: ordered.map((index) => index + 1),
    text: ordered.map((index) => lines[index]!.clean).join('\n'),
    blocks: usedBlocks.map(({ start, end, signature, novel }) => ({
      start: start + 1,
      end: end + 1,
      signature,
      novel,
    })),
    matches,
    totalLines: lines.length,
  };
}

/** Without any error signature: the last non-blank lines that the passing build did not print. */
function fallbackLines(lines: AnalysedLine[], isNovel: (index: number) => boolean, budget: number): number[] {
  const picked: number[] = [];
  for (let index = lines.length - 1; index >= 0 && picked.length < Math.min(budget, 20); index -= 1) {
    if (!isBlank(lines[index]!) && isNovel(index)) picked.push(index);
  }
  return picked;
}
