import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { Match, Template } from 'aws-cdk-lib/assertions';

import { BuildStatus } from '../../core/collection/build-record';
import { suggestionRoute } from '../../core/suggestions/suggestion-routing';
import { matchesEventPattern } from '../helpers/event-pattern';
import { sampleEvent } from '../helpers/sample-events';
import { synthPipemend } from '../helpers/synth';

type Pattern = Record<string, unknown>;

/** AWS's documented `CodeBuild Build State Change` sample, as a failed build CodePipeline started. */
function pipelineFailureSample(): Record<string, unknown> & { detail: Record<string, unknown> } {
  return JSON.parse(
    readFileSync(
      path.join(__dirname, '..', 'fixtures', 'events', 'codebuild-failed-in-pipeline.json'),
      'utf8',
    ),
  );
}

function rulePattern(template: Template, description: RegExp): Pattern {
  const rules = Object.values(template.findResources('AWS::Events::Rule')) as {
    Properties: { Description?: string; EventPattern: Pattern };
  }[];
  const matching = rules.filter((rule) => description.test(rule.Properties.Description ?? ''));
  expect(matching).toHaveLength(1);
  return matching[0]!.Properties.EventPattern;
}

function stateChange(status: BuildStatus, initiator: string | undefined): Record<string, unknown> {
  const event = pipelineFailureSample();
  event.detail['build-status'] = status;
  const info = event.detail['additional-information'] as Record<string, unknown>;
  if (initiator === undefined) delete info.initiator;
  else info.initiator = initiator;
  return event;
}

function verdict(status: BuildStatus): Record<string, unknown> {
  return { source: 'pipemend', 'detail-type': 'Pipemend Build Verdict', detail: { status } };
}

describe('the deployed routing of finished builds to the suggester', () => {
  const { template } = synthPipemend();
  const pipelineFailures = rulePattern(template, /failed CodeBuild builds that CodePipeline started/);
  const scorerRule = rulePattern(template, /finished CodeBuild builds outside CodePipeline, to score/);
  const verdicts = rulePattern(template, /verdicts of finished builds, for fix suggestions/);

  test('the pipeline-failure rule matches the documented sample of a failed build CodePipeline started', () => {
    expect(pipelineFailures).toEqual({
      source: ['aws.codebuild'],
      'detail-type': ['CodeBuild Build State Change'],
      detail: {
        'build-status': ['FAILED', 'FAULT', 'TIMED_OUT'],
        'additional-information': { initiator: [{ prefix: 'codepipeline/' }] },
      },
    });
    expect(matchesEventPattern(pipelineFailures, pipelineFailureSample())).toBe(true);
    // The scorer skips it (the pipeline's scoring action never runs after a failed build).
    expect(matchesEventPattern(scorerRule, pipelineFailureSample())).toBe(false);
  });

  test('the pipeline-failure rule targets the suggester, with retries and its dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: pipelineFailures,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FixSuggestionsSuggester'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FixSuggestionsEventDlq'), 'Arn'] },
          },
          RetryPolicy: { MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 4 },
        }),
      ],
    });
  });

  test('it matches neither a failed build outside CodePipeline nor a pipeline build that succeeded', () => {
    expect(matchesEventPattern(pipelineFailures, sampleEvent('02-codebuild-failed'))).toBe(false);
    expect(matchesEventPattern(pipelineFailures, sampleEvent('04-codebuild-succeeded-in-pipeline'))).toBe(
      false,
    );
    expect(matchesEventPattern(scorerRule, sampleEvent('02-codebuild-failed'))).toBe(true);
  });

  test('configured projects narrow the pipeline-failure rule too', () => {
    const narrowed = rulePattern(
      synthPipemend({ config: { projects: ['my-sample-project'] } }).template,
      /failed CodeBuild builds that CodePipeline started/,
    );
    expect(matchesEventPattern(narrowed, pipelineFailureSample())).toBe(true);
    const other = pipelineFailureSample();
    other.detail['project-name'] = 'another-project';
    expect(matchesEventPattern(narrowed, other)).toBe(false);
  });

  const statuses: BuildStatus[] = ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'];
  const initiators = [
    'codepipeline/web-pipeline',
    'GitHub-Hookshot/4f2c9a1',
    'Pipemend-Remediation/s',
    undefined,
  ];
  test.each(statuses.flatMap((status) => initiators.map((initiator) => [status, initiator] as const)))(
    'the replay routes a %s build started by %s exactly as the deployed rules',
    (status, initiator) => {
      const event = stateChange(status, initiator);
      const pipelineBuild = initiator?.startsWith('codepipeline/') ?? false;
      // A verdict exists when the scorer's rule takes the build, or, for a pipeline build, when the
      // pipeline's BuildScoringAction runs: only after the build succeeded.
      const scored = matchesEventPattern(scorerRule, event) || (pipelineBuild && status === 'SUCCEEDED');
      const deployed =
        (scored && matchesEventPattern(verdicts, verdict(status))) ||
        matchesEventPattern(pipelineFailures, event);
      expect(suggestionRoute({ status, initiator }) !== undefined).toBe(deployed);
    },
  );
});
