/**
 * The events that start a remediation, parsed with zod into one shape: a verdict on Pipemend's bus, a
 * CodeBuild build state change, a CodePipeline stage state change, or a health alarm going off.
 */
import * as z from 'zod/mini';

import { TriggerOrigin } from '../../core/remediation/guards';
import { BuildVerdict, PIPEMEND_EVENT_SOURCE, VERDICT_DETAIL_TYPE } from '../../core/scoring/verdict';
import { InvalidRemediationInputError } from '../remediation/errors';
import { parseInput as parse } from '../remediation/schemas';
import '../shared/zod-messages';

export type Trigger =
  | {
      readonly kind: 'verdict';
      readonly eventId: string;
      readonly verdict: BuildVerdict;
      readonly origin: TriggerOrigin;
    }
  | {
      readonly kind: 'build';
      readonly eventId: string;
      readonly buildId: string;
      readonly projectName: string;
      readonly status: string;
      readonly origin: TriggerOrigin;
    }
  | {
      readonly kind: 'stage';
      readonly eventId: string;
      readonly pipelineName: string;
      readonly stageName: string;
      readonly pipelineExecutionId: string;
      readonly pipelineVersion?: number;
      readonly state: string;
      readonly origin: TriggerOrigin;
    }
  | {
      readonly kind: 'alarm';
      readonly eventId: string;
      readonly alarmName: string;
      readonly state: string;
      readonly reason?: string;
      readonly origin: TriggerOrigin;
    };

const envelope = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.string(),
  'detail-type': z.string(),
  detail: z.unknown(),
});

const verdictDetail = z.looseObject({
  buildId: z.string().check(z.minLength(1)),
  projectName: z.string().check(z.minLength(1)),
  status: z.string(),
  build: z.looseObject({ initiator: z.optional(z.string()) }),
});

const buildDetail = z.object({
  'build-status': z.string(),
  'project-name': z.string().check(z.minLength(1)),
  'build-id': z.string().check(z.minLength(1)),
  'additional-information': z.optional(
    z.looseObject({
      initiator: z.optional(z.string()),
      environment: z.optional(
        z.looseObject({
          'environment-variables': z.optional(
            z.array(z.looseObject({ name: z.string(), value: z.optional(z.string()) })),
          ),
        }),
      ),
    }),
  ),
});

const stageDetail = z.object({
  pipeline: z.string().check(z.minLength(1)),
  'execution-id': z.string().check(z.minLength(1)),
  stage: z.string().check(z.minLength(1)),
  state: z.string(),
  // CodePipeline documents the stage event's version as a number; examples and replays carry "1".
  version: z.optional(z.union([z.number(), z.string().check(z.regex(/^\d+$/))])),
  'execution-type': z.optional(z.string()),
  'execution-trigger': z.optional(z.looseObject({ 'trigger-type': z.optional(z.string()) })),
});

const alarmDetail = z.object({
  alarmName: z.string().check(z.minLength(1)),
  state: z.looseObject({ value: z.string(), reason: z.optional(z.string()) }),
});

/** The classify task's input (`{ event }`), or InvalidRemediationInputError naming what is wrong. */
export function parseClassifyInput(input: unknown): Trigger {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidRemediationInputError(
      `Invalid classify input: expected an object with the triggering event as "event", got ${describe(input)}`,
    );
  }
  return parseTrigger((input as { event?: unknown }).event);
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** Parses the state machine's input, or throws InvalidRemediationInputError naming what is wrong. */
export function parseTrigger(input: unknown): Trigger {
  if (input === null || input === undefined) {
    throw new InvalidRemediationInputError(
      `Invalid event: expected an EventBridge event object, got ${describe(input)}`,
    );
  }
  const event = parse(envelope, input, 'event');
  const type = `${event.source} / ${event['detail-type']}`;
  switch (type) {
    case `${PIPEMEND_EVENT_SOURCE} / ${VERDICT_DETAIL_TYPE}`: {
      parse(verdictDetail, event.detail, 'verdict detail');
      const verdict = event.detail as BuildVerdict;
      return { kind: 'verdict', eventId: event.id, verdict, origin: { initiator: verdict.build.initiator } };
    }
    case 'aws.codebuild / CodeBuild Build State Change': {
      const detail = parse(buildDetail, event.detail, 'CodeBuild event detail');
      const info = detail['additional-information'];
      return {
        kind: 'build',
        eventId: event.id,
        buildId: buildIdFromArn(detail['build-id']),
        projectName: detail['project-name'],
        status: detail['build-status'],
        origin: {
          initiator: info?.initiator,
          environmentVariables: info?.environment?.['environment-variables'],
        },
      };
    }
    case 'aws.codepipeline / CodePipeline Stage Execution State Change': {
      const detail = parse(stageDetail, event.detail, 'CodePipeline event detail');
      return {
        kind: 'stage',
        eventId: event.id,
        pipelineName: detail.pipeline,
        stageName: detail.stage,
        pipelineExecutionId: detail['execution-id'],
        ...(detail.version !== undefined ? { pipelineVersion: Number(detail.version) } : {}),
        state: detail.state,
        origin: {
          pipelineState: detail.state,
          executionType: detail['execution-type'],
          triggerType: detail['execution-trigger']?.['trigger-type'],
        },
      };
    }
    case 'aws.cloudwatch / CloudWatch Alarm State Change': {
      const detail = parse(alarmDetail, event.detail, 'CloudWatch alarm event detail');
      return {
        kind: 'alarm',
        eventId: event.id,
        alarmName: detail.alarmName,
        state: detail.state.value,
        ...(detail.state.reason !== undefined ? { reason: detail.state.reason } : {}),
        origin: {},
      };
    }
    default:
      throw new InvalidRemediationInputError(`Unsupported event ${type}`);
  }
}

/** `arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>` → `<project>:<uuid>`. */
export function buildIdFromArn(idOrArn: string): string {
  const marker = ':build/';
  const index = idOrArn.indexOf(marker);
  return index >= 0 ? idOrArn.slice(index + marker.length) : idOrArn;
}
