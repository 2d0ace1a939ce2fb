import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import { ENDPOINT, resetAws, sageMakerMock, scoresAnswer } from './aws-mocks';
import { manifest } from './fixtures';
import { MalformedScoreResponseError } from '../../../core/scoring/scoring-errors';
import { EndpointScorer, parseScores } from '../../../lambda/scorer/endpoint-scorer';

beforeEach(() => resetAws());

describe('EndpointScorer', () => {
  test('sends one CSV record with text/csv and asks for application/json', async () => {
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(0.87) as never);
    const scorer = new EndpointScorer(new SageMakerRuntimeClient({}), ENDPOINT);
    await expect(scorer.score(manifest(), [0.5, -1.25, 0, 1 / 3])).resolves.toEqual({ score: 0.87 });
    const input = sageMakerMock.commandCalls(InvokeEndpointCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      EndpointName: ENDPOINT,
      ContentType: 'text/csv',
      Accept: 'application/json',
    });
    expect(new TextDecoder().decode(input.Body as Uint8Array)).toBe('0.5,-1.25,0,0.333333');
  });

  test('a model served by another endpoint than the configured one is refused', async () => {
    const scorer = new EndpointScorer(new SageMakerRuntimeClient({}), ENDPOINT);
    await expect(scorer.score(manifest({ endpointName: 'elsewhere' }), [1])).rejects.toThrow(
      `model ${manifest().modelVersion} is served by endpoint elsewhere, but this scorer is configured for ${ENDPOINT}`,
    );
    expect(sageMakerMock).not.toHaveReceivedCommand(InvokeEndpointCommand);
  });
});

describe('parseScores', () => {
  test('reads {"scores":[{"score":n}]}', () => {
    expect(parseScores('{"scores":[{"score":1.5}]}', 1, ENDPOINT)).toEqual([1.5]);
  });

  test('non-JSON is a MalformedScoreResponseError quoting the answer', () => {
    expect(() => parseScores('<html>', 1, ENDPOINT)).toThrow(
      new MalformedScoreResponseError(`endpoint ${ENDPOINT} answered with non-JSON: "<html>"`),
    );
  });

  test('JSON of another shape is a MalformedScoreResponseError', () => {
    expect(() => parseScores('{"predictions":[0.1]}', 1, ENDPOINT)).toThrow(
      `endpoint ${ENDPOINT} answered without {"scores":[{"score":number}]}: "{\\"predictions\\":[0.1]}"`,
    );
  });

  test('a non-numeric score is malformed', () => {
    expect(() => parseScores('{"scores":[{"score":"high"}]}', 1, ENDPOINT)).toThrow(
      MalformedScoreResponseError,
    );
  });

  test('a count mismatch is malformed', () => {
    expect(() => parseScores('{"scores":[]}', 1, ENDPOINT)).toThrow(
      `endpoint ${ENDPOINT} returned 0 scores for 1 records`,
    );
  });
});
