/** One row of a `timestamp,value[,value...]` series. */
export interface SeriesRow {
  readonly timestamp: string;
  readonly values: number[];
}

export class SeriesCsvError extends Error {
  override readonly name = 'SeriesCsvError';
}

/**
 * Line-by-line parser for `timestamp,value[,value...]` CSV, so a series can be processed as a
 * stream. An optional header is allowed on the first line; every error names the file and line.
 */
export class SeriesCsvParser {
  private columns: number | undefined;
  private names: string[] | undefined;
  private timestampHeader: string | undefined;
  private rows = 0;

  constructor(private readonly file: string) {}

  /** The timestamp column's name: the header's, or `timestamp`. */
  get timestampName(): string {
    return this.timestampHeader ?? 'timestamp';
  }

  /** Value column names: the header's, or `value` / `value_1..n` without one. */
  get valueNames(): string[] {
    if (this.names) return this.names;
    const count = (this.columns ?? 2) - 1;
    return count === 1 ? ['value'] : Array.from({ length: count }, (_, i) => `value_${i + 1}`);
  }

  /** Parses one line (1-based number); returns undefined for a header or blank line. */
  parseLine(line: string, lineNumber: number): SeriesRow | undefined {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return undefined;
    const cells = text.split(',').map((cell) => cell.trim());
    if (lineNumber === 1 && isHeader(cells)) {
      if (cells.length < 2)
        throw this.error(
          lineNumber,
          `header has ${cells.length} column, expected timestamp,value[,value...]`,
        );
      this.columns = cells.length;
      this.names = cells.slice(1);
      this.timestampHeader = cells[0];
      return undefined;
    }
    if (cells.length < 2) {
      throw this.error(lineNumber, `expected timestamp,value[,value...], got ${cells.length} column`);
    }
    if (this.columns === undefined) this.columns = cells.length;
    if (cells.length !== this.columns) {
      throw this.error(lineNumber, `expected ${this.columns} columns, got ${cells.length}`);
    }
    const timestamp = cells[0] as string;
    if (timestamp === '') throw this.error(lineNumber, 'the timestamp is empty');
    const values = cells.slice(1).map((cell, index) => {
      const value = Number(cell);
      if (cell === '' || !Number.isFinite(value)) {
        throw this.error(lineNumber, `column ${index + 2} '${cell}' is not a finite number`);
      }
      return value;
    });
    this.rows++;
    return { timestamp, values };
  }

  /** Call after the last line: a file without data rows is an error. */
  finish(): void {
    if (this.rows === 0) {
      throw new SeriesCsvError(`${this.file}: no data rows, expected timestamp,value[,value...] lines`);
    }
  }

  private error(lineNumber: number, message: string): SeriesCsvError {
    return new SeriesCsvError(`${this.file} line ${lineNumber}: ${message}`);
  }
}

/** Parses a whole series file's text. */
export function parseSeriesCsv(text: string, file: string): SeriesRow[] {
  const parser = new SeriesCsvParser(file);
  const rows: SeriesRow[] = [];
  text.split('\n').forEach((line, index) => {
    const row = parser.parseLine(line, index + 1);
    if (row) rows.push(row);
  });
  parser.finish();
  return rows;
}

function isNumeric(cell: string): boolean {
  return cell !== '' && Number.isFinite(Number(cell));
}

/** A header names its columns: its first cell is no timestamp and a value cell is no number. */
function isHeader(cells: readonly string[]): boolean {
  const first = cells[0] ?? '';
  return (
    !isNumeric(first) && Number.isNaN(Date.parse(first)) && cells.slice(1).some((cell) => !isNumeric(cell))
  );
}

/**
 * A row's timestamp as epoch milliseconds, or undefined when it is no time this reads the same on
 * every machine (a row number, a label, a locale's date): ISO 8601 dates and times, with the zone
 * they give or, without one, as UTC (NAB's and most exports' `YYYY-MM-DD HH:MM:SS`); a bare number is
 * epoch seconds below 1e11 and milliseconds above.
 */
export function parseSeriesTime(timestamp: string): number | undefined {
  const text = timestamp.trim();
  if (isNumeric(text)) {
    const number = Number(text);
    return Math.abs(number) < 1e11 ? number * 1000 : number;
  }
  const iso = ISO_TIME.exec(text);
  if (!iso) return undefined;
  const [, date, time = '00:00', zone = 'Z'] = iso;
  const millis = Date.parse(`${date}T${time}${zone}`);
  return Number.isNaN(millis) ? undefined : millis;
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/;
