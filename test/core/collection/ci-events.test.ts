import { buildIdFromArn, parseCiEvent, parseCodeBuildTime } from '../../../core/collection/ci-events';
import { sampleEvent } from '../../helpers/sample-events';

describe('parseCodeBuildTime', () => {
  test("reads CodeBuild's non-ISO event timestamp as UTC", () => {
    expect(parseCodeBuildTime('Sep 1, 2017 4:12:29 PM')).toBe('2017-09-01T16:12:29.000Z');
  });

  test('maps 12 AM to midnight and 12 PM to noon', () => {
    expect(parseCodeBuildTime('Jan 5, 2026 12:03:04 AM')).toBe('2026-01-05T00:03:04.000Z');
    expect(parseCodeBuildTime('Jan 5, 2026 12:03:04 PM')).toBe('2026-01-05T12:03:04.000Z');
  });

  test('accepts ISO-8601 too', () => {
    expect(parseCodeBuildTime('2026-11-20T09:14:02Z')).toBe('2026-11-20T09:14:02.000Z');
  });

  test('rejects impossible dates and other formats', () => {
    expect(parseCodeBuildTime('Feb 31, 2026 1:00:00 PM')).toBeUndefined();
    expect(parseCodeBuildTime('Sep 1, 2017 13:12:29 PM')).toBeUndefined();
    expect(parseCodeBuildTime('yesterday')).toBeUndefined();
  });
});

describe('parseCiEvent', () => {
  test('accepts a terminal CodeBuild Build State Change and converts its build-start-time', () => {
    const parsed = parseCiEvent(sampleEvent('01-codebuild-succeeded'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.value.kind !== 'build') throw new Error('expected a build event');
    expect(parsed.value.event.detail['build-status']).toBe('SUCCEEDED');
    expect(parsed.value.event.detail['additional-information']?.['build-start-time']).toBe(
      '2026-11-20T09:14:02.000Z',
    );
    expect(parsed.value.event.detail['additional-information']?.phases?.[0]?.['start-time']).toBe(
      '2026-11-20T09:14:02.000Z',
    );
  });

  test("accepts the documentation's own example event (Sep 1, 2017 4:12:29 PM)", () => {
    const parsed = parseCiEvent({
      version: '0',
      id: 'c030038d-8c4d-6141-9545-00ff7b7153EX',
      'detail-type': 'CodeBuild Build State Change',
      source: 'aws.codebuild',
      account: '123456789012',
      time: '2017-09-01T16:14:28Z',
      region: 'us-west-2',
      resources: [
        'arn:aws:codebuild:us-west-2:123456789012:build/my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX',
      ],
      detail: {
        'build-status': 'SUCCEEDED',
        'project-name': 'my-sample-project',
        'build-id':
          'arn:aws:codebuild:us-west-2:123456789012:build/my-sample-project:8745a7a9-c340-456a-9166-edf953571bEX',
        'additional-information': {
          'build-complete': true,
          initiator: 'MyCodeBuildDemoUser',
          'build-start-time': 'Sep 1, 2017 4:12:29 PM',
          'timeout-in-minutes': 60,
          phases: [
            {
              'phase-context': [],
              'start-time': 'Sep 1, 2017 4:12:29 PM',
              'end-time': 'Sep 1, 2017 4:12:29 PM',
              'duration-in-seconds': 0,
              'phase-type': 'SUBMITTED',
              'phase-status': 'SUCCEEDED',
            },
            { 'start-time': 'Sep 1, 2017 4:14:21 PM', 'phase-type': 'COMPLETED' },
          ],
        },
        'current-phase': 'COMPLETED',
        'current-phase-context': '[]',
        version: '1',
      },
    });
    expect(parsed).toMatchObject({ ok: true, value: { kind: 'build' } });
  });

  test.each([
    ['03-codepipeline-stage-started', 'stage'],
    ['05-codepipeline-action-succeeded', 'action'],
    ['06-codepipeline-stage-succeeded', 'stage'],
  ])('accepts %s as a %s event', (name, kind) => {
    expect(parseCiEvent(sampleEvent(name))).toMatchObject({ ok: true, value: { kind } });
  });

  test('accepts an older action event without execution-result or attempt', () => {
    const event = sampleEvent('05-codepipeline-action-succeeded');
    delete event.detail['execution-result'];
    delete event.detail['pipeline-execution-attempt'];
    event.detail.state = 'STARTED';
    expect(parseCiEvent(event)).toMatchObject({ ok: true, value: { kind: 'action' } });
  });

  test('rejects an unsupported detail-type, naming it', () => {
    const parsed = parseCiEvent(sampleEvent('08-codebuild-phase-change-unsupported'));
    expect(parsed).toEqual({
      ok: false,
      eventId: 'c06f9b7c-8d0e-4f1a-8b2c-3d4e5f6a7b08',
      reason: expect.stringMatching(/^unsupported detail-type "CodeBuild Build Phase Change"/),
    });
  });

  test('rejects a CodeBuild event without its build id, naming the field', () => {
    const event = sampleEvent('01-codebuild-succeeded');
    delete event.detail['build-id'];
    const parsed = parseCiEvent(event);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason).toMatch(/^malformed 'CodeBuild Build State Change' event: detail\.build-id:/);
  });

  test('rejects a CodeBuild event whose build-start-time is not a timestamp', () => {
    const event = sampleEvent('01-codebuild-succeeded');
    (event.detail['additional-information'] as Record<string, unknown>)['build-start-time'] = 'soon';
    const parsed = parseCiEvent(event);
    expect(parsed).toMatchObject({
      ok: false,
      reason: expect.stringContaining("not a CodeBuild timestamp: 'soon'"),
    });
  });

  test('rejects a CodeBuild event with an unknown status', () => {
    const event = sampleEvent('02-codebuild-failed');
    event.detail['build-status'] = 'EXPLODED';
    expect(parseCiEvent(event)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('detail.build-status'),
    });
  });

  test('rejects a detail-type from a different source', () => {
    const event = sampleEvent('06-codepipeline-stage-succeeded');
    event.source = 'my.app';
    expect(parseCiEvent(event)).toMatchObject({ ok: false, reason: expect.stringContaining('source') });
  });

  test.each([null, 'text', 42, []])('rejects %p as not a JSON object', (raw) => {
    expect(parseCiEvent(raw)).toEqual({ ok: false, reason: 'event is not a JSON object' });
  });
});

test('buildIdFromArn takes the <project>:<uuid> part of a build ARN', () => {
  expect(buildIdFromArn('arn:aws:codebuild:eu-west-1:123456789012:build/api-build:5f0c')).toBe(
    'api-build:5f0c',
  );
});
