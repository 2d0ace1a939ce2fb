import { parseSeriesCsv, parseSeriesTime, SeriesCsvError, SeriesCsvParser } from '../../../sagemaker/rcf';

describe('parseSeriesCsv', () => {
  it('reads rows with or without a header and tolerates CRLF and blank lines', () => {
    expect(
      parseSeriesCsv('timestamp,value\r\n2024-01-01 00:00:00,1.5\r\n\r\n2024-01-01 00:05:00,2\r\n', 'a.csv'),
    ).toEqual([
      { timestamp: '2024-01-01 00:00:00', values: [1.5] },
      { timestamp: '2024-01-01 00:05:00', values: [2] },
    ]);
    expect(parseSeriesCsv('1,2,3\n2,3,4', 'b.csv')).toEqual([
      { timestamp: '1', values: [2, 3] },
      { timestamp: '2', values: [3, 4] },
    ]);
  });

  it('treats a first line with a timestamp and a bad value as data, not as a header', () => {
    expect(() => parseSeriesCsv('2024-01-01 00:00:00,abc\n', 'c.csv')).toThrow(
      new SeriesCsvError("c.csv line 1: column 2 'abc' is not a finite number"),
    );
  });

  it('rejects infinities, empty timestamps and single-column lines', () => {
    expect(() => parseSeriesCsv('1,Infinity', 'd.csv')).toThrow(
      "d.csv line 1: column 2 'Infinity' is not a finite number",
    );
    expect(() => parseSeriesCsv('1,2\n,3', 'd.csv')).toThrow('d.csv line 2: the timestamp is empty');
    expect(() => parseSeriesCsv('1,2\n3', 'd.csv')).toThrow(
      'd.csv line 2: expected timestamp,value[,value...], got 1 column',
    );
  });

  it('names value columns from the header or numbers them', () => {
    const named = new SeriesCsvParser('e.csv');
    named.parseLine('time,cpu,mem', 1);
    expect(named.valueNames).toEqual(['cpu', 'mem']);
    const numbered = new SeriesCsvParser('f.csv');
    numbered.parseLine('1,2,3', 1);
    expect(numbered.valueNames).toEqual(['value_1', 'value_2']);
  });
});

describe('parseSeriesTime', () => {
  it('reads a zoneless date and time as UTC', () => {
    expect(parseSeriesTime('2013-10-09 16:25:00')).toBe(Date.UTC(2013, 9, 9, 16, 25));
    expect(parseSeriesTime('2013-10-09T16:25')).toBe(Date.UTC(2013, 9, 9, 16, 25));
  });

  it('honours an explicit zone', () => {
    expect(parseSeriesTime('2013-10-09T16:25:00+02:00')).toBe(Date.UTC(2013, 9, 9, 14, 25));
  });

  it('reads a bare number as epoch seconds or milliseconds by its size', () => {
    expect(parseSeriesTime('1381335900')).toBe(1_381_335_900_000);
    expect(parseSeriesTime('1381335900000')).toBe(1_381_335_900_000);
  });

  it('gives undefined for a timestamp that is no time', () => {
    expect(parseSeriesTime('row-7')).toBeUndefined();
  });
});
