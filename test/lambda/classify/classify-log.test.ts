import { BuildFacts, classify, ClassifyPorts } from '../../../lambda/classify/classify';
import { parseClassifyInput, parseTrigger, Trigger } from '../../../lambda/classify/events';
import { InvalidRemediationInputError } from '../../../lambda/remediation/errors';

const config = {
  ownInitiatorPrefixes: ['Pipemend-'],
  healthAlarms: [],
  now: () => new Date('2026-11-21T12:00:00Z'),
};

function portsFor(log: string[], failedTests: string[] = []): ClassifyPorts {
  const build: BuildFacts = {
    buildId: 'app:7',
    projectName: 'app',
    status: 'FAILED',
    failedPhase: 'BUILD',
    environmentVariables: [],
    logs: { groupName: '/aws/codebuild/app', streamName: '7' },
    reportArns: failedTests.length > 0 ? ['arn:aws:codebuild:eu-west-1:1:report/app-tests:7'] : [],
  };
  return {
    getBuild: async () => build,
    testResults: async () => failedTests.map((name) => ({ name, outcome: 'FAILED' as const })),
    logTail: async () => log,
    recentTestRuns: async () => [],
    recordTestRun: async () => undefined,
    failedBuildOfStage: async () => undefined,
    latestStageExecution: async () => undefined,
    alarm: async () => undefined,
  };
}

const trigger: Trigger = {
  kind: 'build',
  eventId: 'e1',
  buildId: 'app:7',
  projectName: 'app',
  status: 'FAILED',
  origin: { initiator: 'alice' },
};

describe('classify reads the failing step of the log', () => {
  test.each([
    ['getaddrinfo EAI_AGAIN', '    console.error Error: getaddrinfo EAI_AGAIN api.example.com'],
    ['JavaScript heap out of memory', "    expect(stderr).toContain('JavaScript heap out of memory')"],
  ])('a test failure whose output prints %s is not rerun', async (_name, printed) => {
    const log = [
      '[Container] 2026/11/21 11:58:00.000000 Entering phase BUILD',
      '[Container] 2026/11/21 11:58:00.000000 Running command npm test',
      printed,
      '  ● users › fetches the user',
      'Tests:       1 failed, 41 passed, 42 total',
      '[Container] 2026/11/21 11:59:00.000000 Command did not exit successfully npm test exit status 1',
      '[Container] 2026/11/21 11:59:00.000000 Phase complete: BUILD State: FAILED',
    ];
    const classification = await classify(trigger, portsFor(log), config);
    expect(classification.decision.action).toBe('NOTIFY');
    expect(classification.decision.reasons.join(' ')).toContain('users › fetches the user');
  });

  test('a CI runner message without any other signature is rerun, naming the line', async () => {
    const log = ['$ make build', 'ERROR: Job failed (system failure): timed out waiting for pod to start'];
    const classification = await classify(trigger, portsFor(log), config);
    expect(classification.decision.action).toBe('RERUN_CLEAN');
    expect(classification.decision.reasons[0]).toContain('line 2');
  });
});

describe('classify input validation (issue #13)', () => {
  test('a null trigger is a clear validation error, not a TypeError', async () => {
    await expect(classify(null as unknown as Trigger, portsFor([]), config)).rejects.toThrow(
      new InvalidRemediationInputError(
        'classify needs a parsed trigger (verdict, build, stage or alarm), got null',
      ),
    );
    expect(() => parseClassifyInput(null)).toThrow(
      new InvalidRemediationInputError(
        'Invalid classify input: expected an object with the triggering event as "event", got null',
      ),
    );
    expect(() => parseTrigger(null)).toThrow(InvalidRemediationInputError);
  });

  test('accepts the documented CodePipeline stage event with "version": "1"', () => {
    const parsed = parseTrigger({
      id: 'evt-2',
      source: 'aws.codepipeline',
      'detail-type': 'CodePipeline Stage Execution State Change',
      detail: {
        pipeline: 'app',
        'execution-id': '01234567-0123-0123-0123-012345678901',
        stage: 'Deploy',
        state: 'FAILED',
        version: '1',
      },
    });
    expect(parsed).toMatchObject({ kind: 'stage', pipelineVersion: 1 });
  });
});
