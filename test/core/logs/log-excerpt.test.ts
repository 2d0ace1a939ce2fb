import {
  cleanLine,
  InvalidExcerptBudgetError,
  normaliseLine,
  selectFailureExcerpt,
  splitLogLines,
} from '../../../core/logs/log-excerpt';

const lines = (...texts: string[]): string => texts.join('\n');

describe('splitLogLines', () => {
  test('ends a line at \\r\\n, \\n and a lone \\r like CI log viewers', () => {
    expect(splitLogLines('a\r\nb\nc\rd')).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('cleanLine', () => {
  test('removes ANSI colours and GitHub Actions, CodeBuild timestamp prefixes but keeps indentation', () => {
    expect(cleanLine('\x1b[1;31mERROR\x1b[m boom')).toBe('ERROR boom');
    expect(cleanLine('2022-05-30T09:11:02.8577255Z     at a.B.c(B.java:3)')).toBe('    at a.B.c(B.java:3)');
    expect(cleanLine('job\tstep\t2021-12-01T13:01:04.3807878Z FAILED')).toBe('FAILED');
    expect(cleanLine('[Container] 2026/11/21 10:00:31.000011 Phase complete')).toBe('Phase complete');
  });
});

describe('normaliseLine', () => {
  test('equates lines that differ only in timestamps, numbers, hashes, uuids and temporary paths', () => {
    expect(
      normaliseLine(
        '2024-01-02T03:04:05Z build 17 at 4e8932e579d2 in /tmp/abc123/x id 123e4567-e89b-12d3-a456-426614174000',
      ),
    ).toBe(
      normaliseLine(
        '2024-02-03T04:05:06Z build 18 at 9f0e1d2c3b4a in /tmp/zz9/x id 00000000-1111-2222-3333-444444444444',
      ),
    );
  });
});

describe('selectFailureExcerpt', () => {
  test('keeps a Java stack trace whole with its exception line', () => {
    const log = lines(
      'Downloading deps',
      'java.lang.IllegalStateException: boom',
      '\tat com.acme.A.run(A.java:10)',
      '\tat com.acme.B.main(B.java:5)',
      'Caused by: java.io.IOException: disk',
      '\t... 2 more',
      'done',
    );
    expect(selectFailureExcerpt(log).lines).toEqual([2, 3, 4, 5, 6]);
  });

  test('keeps a compiler error with its indented notes', () => {
    const log = lines(
      '[INFO] Compiling 12 source files',
      '[ERROR] /src/A.java:[23,29] cannot find symbol',
      '  symbol:   class ImportScanner',
      '  location: package spoon.reflect.visitor',
      '[INFO] 1 error',
    );
    expect(selectFailureExcerpt(log).lines).toEqual([2, 3, 4]);
  });

  test('leaves out error lines the passing build printed too, after normalising numbers and timestamps', () => {
    const fail = lines(
      '2024-01-01T00:00:01Z ERROR: flaky warning 17 ignored',
      'step 2',
      'npm ERR! code ELIFECYCLE',
    );
    const pass = lines('2024-01-02T00:00:09Z ERROR: flaky warning 18 ignored', 'step 2');
    expect(selectFailureExcerpt(fail, pass).lines).toEqual([3]);
  });

  test('drops repetition: a line repeated later in the log appears once', () => {
    const log = lines(
      '[ERROR] /src/A.java:[1,2] cannot find symbol',
      '[INFO] ---',
      '[ERROR] Failed to execute goal compile: Compilation failure',
      '[ERROR] /src/A.java:[1,2] cannot find symbol',
    );
    expect(selectFailureExcerpt(log).lines).toEqual([1, 3]);
  });

  test('keeps a stack trace printed several times over once, as its first copy', () => {
    const copy = [
      '[ERROR] No space left on device',
      'java.io.IOException: No space left on device',
      '    at java.io.File.createNewFile (File.java:1026)',
      '    at spoon.Launcher.run (Launcher.java:737)',
    ];
    const log = lines(...copy, ...copy, ...copy, '[ERROR] Failed to execute goal generate');
    expect(selectFailureExcerpt(log).lines).toEqual([1, 2, 3, 4, 13]);
  });

  test('ignores informational and warning lines even when they mention errors', () => {
    const log = lines(
      '[INFO] BUILD FAILURE',
      '[WARNING] /src/A.java:[5,46] deprecated API',
      'fatal: unable to access repo',
    );
    expect(selectFailureExcerpt(log).lines).toEqual([3]);
  });

  test('stays within the budget and gives every error block at least its first line', () => {
    const trace = Array.from(
      { length: 80 },
      (_, i) => `\tat com.acme.Frame${i}.run(Frame${i}.java:${i + 1})`,
    );
    const log = lines(
      'java.lang.RuntimeException: first',
      ...trace,
      'ok',
      'ERROR: Step publish failed',
      'ok',
      "Build step 'Execute shell' marked build as failure",
    );
    const excerpt = selectFailureExcerpt(log, undefined, { budget: 10 });
    expect(excerpt.lines).toHaveLength(10);
    expect(excerpt.lines).toEqual(expect.arrayContaining([1, 83, 85]));
  });

  test('returns the text of the chosen lines, cleaned, in log order', () => {
    const excerpt = selectFailureExcerpt(lines('ok', '\x1b[31mfatal: not a git repository\x1b[0m'));
    expect(excerpt).toMatchObject({ lines: [2], text: 'fatal: not a git repository', totalLines: 2 });
  });

  test('without any error signature falls back to the last lines the passing build did not print', () => {
    const excerpt = selectFailureExcerpt(lines('same', 'weird thing happened', 'same'), lines('same'));
    expect(excerpt.lines).toEqual([2]);
  });

  test.each([0, -1, 1.5, 1001, Number.NaN])('rejects budget %p with a clear error', (budget) => {
    expect(() => selectFailureExcerpt('x', undefined, { budget })).toThrow(
      new InvalidExcerptBudgetError(`budget must be an integer between 1 and 1000, got ${String(budget)}`),
    );
  });
});

describe('selectFailureExcerpt on common toolchains', () => {
  test.each([
    [
      'pytest',
      [
        'tests/test_orders.py ..F.                                  [100%]',
        '    def test_total():',
        'E       assert 3 == 4',
        'tests/test_orders.py:7: AssertionError',
        'FAILED tests/test_orders.py::test_total - assert 3 == 4',
      ],
      [3, 4, 5],
    ],
    [
      'go build',
      [
        'go: downloading github.com/x/y v1.2.3',
        '# example.com/app/orders',
        'orders/service.go:12:5: undefined: computeTotal',
      ],
      [2, 3],
    ],
    [
      'go test',
      ['=== RUN   TestTotal', '    total_test.go:9: got 3, want 4', '--- FAIL: TestTotal (0.00s)'],
      [2, 3],
    ],
    [
      'cargo',
      [
        '   Compiling app v0.1.0 (/src)',
        'error[E0425]: cannot find value `totl` in this scope',
        ' --> src/main.rs:2:5',
        '  |',
        '2 |     totl',
        'error: could not compile `app` (bin "app") due to 1 previous error',
      ],
      [2, 3, 4, 5, 6],
    ],
    [
      'Docker BuildKit',
      [
        '#7 [3/4] RUN npm ci',
        '#7 0.512 npm ERR! code ENOTFOUND',
        '#7 ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1',
      ],
      [2, 3],
    ],
    [
      'Terraform',
      [
        'aws_s3_bucket.logs: Creating...',
        '╷',
        '│ Error: creating S3 Bucket (acme-logs): BucketAlreadyExists',
        '│   with aws_s3_bucket.logs,',
        '╵',
      ],
      [3, 4],
    ],
    [
      'CloudFormation',
      [
        'MyStack | 2/5 | CREATE_IN_PROGRESS | AWS::S3::Bucket',
        'MyStack | 3/5 | CREATE_FAILED | AWS::S3::Bucket | already exists',
      ],
      [2],
    ],
    [
      'AWS throttling',
      [
        'Deploying stack...',
        'An error occurred (ThrottlingException) when calling the DescribeStacks operation: Rate exceeded',
      ],
      [2],
    ],
    [
      'tsc',
      [
        '> tsc -p tsconfig.json',
        "src/a.ts(42,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      ],
      [2],
    ],
  ])('finds the error lines of %s', (_toolchain, log, expected) => {
    expect(selectFailureExcerpt(log.join('\n')).lines).toEqual(expected);
  });
});

describe('selectFailureExcerpt on structured CI logs', () => {
  it('prefers the failing Travis step over setup errors and keeps its last output', () => {
    const log = [
      'travis_fold:start:install',
      '$ ./setup.sh',
      'ls: cannot access /opt/cache: No such file or directory',
      'travis_fold:end:install',
      '$ ./run-tests.sh',
      'compiling...',
      'checking style',
      'src/a.c is not formatted',
      'The command "./run-tests.sh" exited with 1.',
      'travis_fold:start:cache.2',
      'store build cache',
    ].join('\n');
    const excerpt = selectFailureExcerpt(log, undefined, { budget: 5 });
    expect(excerpt.lines).toEqual(expect.arrayContaining([8, 9]));
    expect(excerpt.lines).not.toContain(11);
  });

  it('adds the lines around the failing step error when the budget allows and there is no passing log', () => {
    const log = [
      '$ bundle exec rake test',
      'Run options: --seed 1234',
      'UserTest#test_name_is_required',
      '  1) Failure:',
      'Expected false to be truthy.',
      '1 runs, 1 assertions, 1 failures, 0 errors, 0 skips',
      'The command "bundle exec rake test" exited with 1.',
    ].join('\n');
    expect(selectFailureExcerpt(log, undefined, { budget: 10 }).lines).toContain(3);
  });
});

describe('selectFailureExcerpt on test runners that report at info level or in headers', () => {
  test.each([
    ['ScalaTest under sbt', ['[info] Compiling', '[info] - rejects bad input *** FAILED ***', '[info] ok']],
    ['pytest failure header', ['collected 3 items', '____________ test_unknown_host ____________', 'ok']],
    ['minitest', ['Run options: --seed 1', 'Failure:', 'ok']],
  ])('finds the failure of %s', (_name, log) => {
    expect(selectFailureExcerpt(log.join('\n')).lines).toContain(2);
  });
});
