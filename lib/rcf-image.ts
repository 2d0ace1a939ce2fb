import { Aws, CfnMapping, Fn, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * The account hosting SageMaker's built-in `randomcutforest` image in each region, from the SageMaker
 * Python SDK's `image_uri_config/randomcutforest.json` (version 1).
 */
export const RCF_IMAGE_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '455444449433',
  'ap-east-1': '286214385809',
  'ap-northeast-1': '351501993468',
  'ap-northeast-2': '835164637446',
  'ap-northeast-3': '867004704886',
  'ap-south-1': '991648021394',
  'ap-southeast-1': '475088953585',
  'ap-southeast-2': '712309505854',
  'ap-southeast-3': '951798379941',
  'ca-central-1': '469771592824',
  'cn-north-1': '390948362332',
  'cn-northwest-1': '387376663083',
  'eu-central-1': '664544806723',
  'eu-north-1': '669576153137',
  'eu-south-1': '257386234256',
  'eu-west-1': '438346466558',
  'eu-west-2': '644912444149',
  'eu-west-3': '749696950732',
  'me-south-1': '249704162688',
  'sa-east-1': '855470959533',
  'us-east-1': '382416733822',
  'us-east-2': '404615174143',
  'us-gov-west-1': '226302683700',
  'us-west-1': '632365934929',
  'us-west-2': '174872318107',
};

const MAPPING_ID = 'RandomCutForestImageAccounts';

/**
 * `<account>.dkr.ecr.<region>.<url suffix>/randomcutforest:1` for the region the stack is deployed to,
 * resolved by CloudFormation from a mapping (the stack itself stays region-agnostic).
 */
export function randomCutForestImageUri(scope: Construct): string {
  const stack = Stack.of(scope);
  const mapping =
    (stack.node.tryFindChild(MAPPING_ID) as CfnMapping | undefined) ??
    new CfnMapping(stack, MAPPING_ID, {
      mapping: Object.fromEntries(
        Object.entries(RCF_IMAGE_ACCOUNTS).map(([region, account]) => [region, { account }]),
      ),
    });
  const account = mapping.findInMap(Aws.REGION, 'account');
  return Fn.join('', [account, '.dkr.ecr.', Aws.REGION, '.', Aws.URL_SUFFIX, '/randomcutforest:1']);
}
