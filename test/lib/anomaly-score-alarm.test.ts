import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { AnomalyScoreAlarm, AnomalyScoreAlarmProps } from '../../lib/anomaly-score-alarm';
import { testApp } from '../helpers/synth';

function synth(props: AnomalyScoreAlarmProps): Template {
  const stack = new Stack(testApp(), 'S');
  new AnomalyScoreAlarm(stack, 'Alarm', props);
  return Template.fromStack(stack);
}

describe('AnomalyScoreAlarm', () => {
  test('for one project it watches that project’s maximum AnomalyScoreRatio, as the scorer emits it', () => {
    synth({
      projectName: 'app-build',
      threshold: 1.5,
      period: Duration.minutes(15),
      evaluationPeriods: 4,
      datapointsToAlarm: 3,
    }).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Pipemend',
      MetricName: 'AnomalyScoreRatio',
      Dimensions: [
        { Name: 'project', Value: 'app-build' },
        { Name: 'service', Value: 'pipemend' },
      ],
      Statistic: 'Maximum',
      Period: 900,
      Threshold: 1.5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 4,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  test('without a topic it has no actions', () => {
    const alarms = synth({}).findResources('AWS::CloudWatch::Alarm');
    const [alarm] = Object.values(alarms) as { Properties: Record<string, unknown> }[];
    expect(alarm!.Properties.AlarmActions).toBeUndefined();
  });

  test.each([
    [{ threshold: 0 }, 'threshold must be positive, got 0'],
    [{ evaluationPeriods: 0 }, 'evaluationPeriods must be a positive integer, got 0'],
    [
      { evaluationPeriods: 2, datapointsToAlarm: 3 },
      'datapointsToAlarm must be an integer from 1 to evaluationPeriods (2), got 3',
    ],
    [{ projectName: 'bad name' }, "projectName 'bad name' is not a valid CodeBuild project name"],
  ] as const)('%j is refused: %s', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
