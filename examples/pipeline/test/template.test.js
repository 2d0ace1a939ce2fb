// Run after `npm run synth`: the synthesized pipeline holds Pipemend's gate, and the pipeline may invoke it.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const { Match, Template } = require('aws-cdk-lib/assertions');

const template = (stack) =>
  Template.fromJSON(
    JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.out', `${stack}.template.json`), 'utf8')),
  );

test("the Build stage succeeds only through the LambdaInvoke rule that calls Pipemend's scorer", () => {
  const pipeline = template('ExampleAppPipeline');
  pipeline.hasResourceProperties('AWS::CodePipeline::Pipeline', {
    PipelineType: 'V2',
    Stages: Match.arrayWith([
      Match.objectLike({
        Name: 'Build',
        OnSuccess: {
          Conditions: [
            {
              Result: 'FAIL',
              Rules: [
                Match.objectLike({
                  RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'LambdaInvoke', Version: '1' },
                  Configuration: Match.objectLike({
                    FunctionName: Match.anyValue(),
                    UserParameters: Match.stringLikeRegexp('#\\{codepipeline.PipelineExecutionId\\}'),
                  }),
                }),
              ],
            },
          ],
        },
      }),
    ]),
  });
});

test('the pipeline role may invoke the scorer, and nothing else of Pipemend', () => {
  const pipeline = template('ExampleAppPipeline');
  const policies = pipeline.findResources('AWS::IAM::Policy');
  const invokes = Object.values(policies)
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .filter((statement) => [].concat(statement.Action).includes('lambda:InvokeFunction'));
  assert.equal(invokes.length, 1);
  assert.match(JSON.stringify(invokes[0].Resource), /ScorerFunctionArn|Scorer/);
});

test('the Pipemend stack deploys from the package with prebuilt Lambda code', () => {
  const pipemend = template('Pipemend');
  const functions = Object.values(pipemend.findResources('AWS::Lambda::Function'));
  assert.ok(functions.length >= 9, `expected Pipemend's functions, found ${functions.length}`);
  pipemend.hasOutput('ScorerFunctionArn', { Export: { Name: 'Pipemend-ScorerFunctionArn' } });
});
