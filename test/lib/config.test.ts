import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { parsePipemendConfig, PipemendConfigError } from '../../lib/config';

describe('parsePipemendConfig', () => {
  test('defaults to shadow mode, the embedded scorer and all projects', () => {
    expect(parsePipemendConfig(undefined)).toEqual({
      projects: [],
      pipelines: [],
      defaultMode: 'shadow',
      scorer: 'embedded',
      healthAlarms: [],
      requireRollbackApproval: true,
      trainingWindowDays: 90,
      trainingSource: 'per-build',
      owners: [],
    });
  });

  test('rejects an unknown top-level key, naming it and the accepted keys', () => {
    expect(() => parsePipemendConfig({ projets: ['my-build'], defaultMode: 'enforce' })).toThrow(
      new PipemendConfigError(
        "Invalid pipemend configuration: unknown key 'projets' (accepted: projects, pipelines, defaultMode, scorer, endpointName, healthAlarms, requireRollbackApproval, remediationLimits, trend, bedrockModelId, bedrockGuardrailId, bedrockGuardrailVersion, notificationEmail, trainingWindowDays, trainingApproval, trainingSource, endpointInstanceType, endpointAutoscaling, owners)",
      ),
    );
  });

  test('rejects an unknown remediation limit by name', () => {
    expect(() => parsePipemendConfig({ remediationLimits: { maxRetries: 2 } })).toThrow(
      "Invalid pipemend configuration: remediationLimits: unknown key 'maxRetries' (accepted: maxActionsPerRevision, maxActionsPerWindow, windowSeconds, breakerThreshold, breakerCooldownSeconds)",
    );
  });

  test('accepts trend settings and keeps them as given', () => {
    const trend = { features: ['memoryUtilizedPercent', 'durationSeconds'], minShift: 1.5 };
    expect(parsePipemendConfig({ trend }).trend).toEqual(trend);
  });

  test('rejects a trend feature the test cannot follow, naming the field', () => {
    expect(() => parsePipemendConfig({ trend: { features: ['cpuUtilizedPercent'] } })).toThrow(
      'Invalid pipemend configuration: trend.features.0: Invalid option: expected one of "memoryUtilizedPercent"|"buildSeconds"|"durationSeconds"|"queuedSeconds"',
    );
  });

  test('rejects an unknown trend key, naming the accepted keys', () => {
    expect(() => parsePipemendConfig({ trend: { windowHours: 48 } })).toThrow(
      "Invalid pipemend configuration: trend: unknown key 'windowHours' (accepted: features, minShift, minZ)",
    );
  });

  test('rejects an unknown key inside a list entry, naming the entry', () => {
    const alarm = { pipelineName: 'p', stageName: 'Deploy', alarmName: 'errors', alarm: 'typo' };
    expect(() => parsePipemendConfig({ healthAlarms: [alarm] })).toThrow(
      "Invalid pipemend configuration: healthAlarms.0: unknown key 'alarm' (accepted: pipelineName, stageName, alarmName)",
    );
  });

  test('rejects an unknown autoscaling key', () => {
    const autoscaling = { minCapacity: 1, maxCapacity: 2, invocationsPerInstancePerMinute: 60, max: 3 };
    expect(() => parsePipemendConfig({ endpointAutoscaling: autoscaling })).toThrow(
      /^Invalid pipemend configuration: endpointAutoscaling: unknown key 'max' \(accepted: minCapacity,/,
    );
  });

  describe('owners', () => {
    test('accepts a project owner by e-mail and a pipeline owner by topic', () => {
      const owners = [
        { project: 'web-build', email: 'web-team@example.com' },
        { pipeline: 'payments', topicArn: 'arn:aws:sns:eu-west-1:123456789012:payments-ci' },
      ];
      expect(parsePipemendConfig({ owners }).owners).toEqual(owners);
    });

    test('rejects an owner naming both a project and a pipeline', () => {
      expect(() =>
        parsePipemendConfig({ owners: [{ project: 'a', pipeline: 'b', email: 'team@example.com' }] }),
      ).toThrow(
        new PipemendConfigError(
          'Invalid pipemend configuration: owners.0: give exactly one of project and pipeline',
        ),
      );
    });

    test('rejects an owner naming neither a project nor a pipeline', () => {
      expect(() => parsePipemendConfig({ owners: [{ email: 'team@example.com' }] })).toThrow(
        new PipemendConfigError(
          'Invalid pipemend configuration: owners.0: give exactly one of project and pipeline',
        ),
      );
    });

    test('rejects an owner with both a topic and an e-mail', () => {
      const owner = {
        project: 'a',
        email: 'team@example.com',
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:t',
      };
      expect(() => parsePipemendConfig({ owners: [owner] })).toThrow(
        new PipemendConfigError(
          'Invalid pipemend configuration: owners.0: give exactly one of topicArn and email',
        ),
      );
    });

    test('rejects an owner with neither a topic nor an e-mail', () => {
      expect(() => parsePipemendConfig({ owners: [{ project: 'a' }] })).toThrow(
        new PipemendConfigError(
          'Invalid pipemend configuration: owners.0: give exactly one of topicArn and email',
        ),
      );
    });

    test('rejects a topicArn that is not an SNS topic ARN', () => {
      expect(() =>
        parsePipemendConfig({ owners: [{ project: 'a', topicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' }] }),
      ).toThrow(
        new PipemendConfigError(
          'Invalid pipemend configuration: owners.0.topicArn: must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:team-ci',
        ),
      );
    });

    test('rejects two owners of one project', () => {
      const owners = [
        { project: 'a', email: 'one@example.com' },
        { project: 'a', email: 'two@example.com' },
      ];
      expect(() => parsePipemendConfig({ owners })).toThrow(
        new PipemendConfigError(
          "Invalid pipemend configuration: owners.1: project 'a' has more than one owner",
        ),
      );
    });

    test('rejects an unknown key in an owner, naming the accepted keys', () => {
      expect(() =>
        parsePipemendConfig({ owners: [{ project: 'a', email: 'team@example.com', team: 'web' }] }),
      ).toThrow(
        new PipemendConfigError(
          "Invalid pipemend configuration: owners.0: unknown key 'team' (accepted: project, pipeline, topicArn, email)",
        ),
      );
    });
  });

  test('accepts a JSON string from --context', () => {
    expect(parsePipemendConfig('{"projects":["api"],"defaultMode":"enforce"}')).toMatchObject({
      projects: ['api'],
      defaultMode: 'enforce',
    });
  });

  test('names the field that is wrong', () => {
    expect(() => parsePipemendConfig({ defaultMode: 'yolo' })).toThrow(
      /^Invalid pipemend configuration: defaultMode:/,
    );
  });

  test('rejects context that is not JSON', () => {
    expect(() => parsePipemendConfig('{projects')).toThrow(/context 'pipemend' is not valid JSON/);
  });

  test('rejects a training source other than per-build and compacted', () => {
    expect(() => parsePipemendConfig({ trainingSource: 'iceberg' })).toThrow(
      /^Invalid pipemend configuration: trainingSource: .*"per-build"\|"compacted"/,
    );
  });
});

describe('the CDK app', () => {
  test('a context with an unknown key fails synth with one line naming it, no stack trace', async () => {
    const outdir = await mkdtemp(path.join(tmpdir(), 'pipemend-synth-'));
    const app = path.join(__dirname, '..', '..', 'bin', 'app.ts');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', app],
        {
          env: {
            ...process.env,
            CDK_OUTDIR: outdir,
            CDK_CONTEXT_JSON: JSON.stringify({ pipemend: { projets: ['my-build'] } }),
          },
        },
        (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    await rm(outdir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Invalid pipemend configuration: unknown key 'projets' \(accepted: projects, /),
    ]);
  });
});
