/**
 * Public on-demand list prices (USD, us-east-1, checked November 2026) of what the deployed stack uses, and
 * the memory its functions are configured with (lib/*.ts). The cost estimate multiplies the replay's own
 * counts by these; nothing else in it is a constant.
 */
export const UNIT_PRICES = {
  /** AWS Lambda: per request, and per GB-second on Arm (Graviton). */
  lambdaPerRequest: 0.2 / 1_000_000,
  lambdaPerGbSecondArm: 0.0000133334,
  /** AWS Step Functions Standard workflows: per state transition. */
  stepFunctionsPerTransition: 0.025 / 1000,
  /** Amazon EventBridge: per custom event published to a bus (AWS service events are free). */
  eventBridgePerEvent: 1 / 1_000_000,
  /** Amazon S3 Standard: per PUT and per GET request, per GB-month stored. */
  s3PerPut: 0.005 / 1000,
  s3PerGet: 0.0004 / 1000,
  s3PerGbMonth: 0.023,
  /** Amazon CloudWatch: per custom metric-month (first 10,000), per GB of logs ingested. */
  cloudWatchPerMetricMonth: 0.3,
  cloudWatchLogsPerGb: 0.5,
  /** Amazon SNS: per publish, per email delivery. */
  snsPerPublish: 0.5 / 1_000_000,
  snsPerEmail: 2 / 100_000,
  /** Amazon DynamoDB on-demand: per write and per read request unit. */
  dynamoDbPerWrite: 0.625 / 1_000_000,
  dynamoDbPerRead: 0.125 / 1_000_000,
  /** AWS KMS: per customer managed key-month. */
  kmsPerKeyMonth: 1,
  /** SageMaker real-time endpoint, for comparison with the embedded scorer: ml.t2.medium (the default) per hour. */
  sagemakerT2MediumPerHour: 0.056,
} as const;

/** Memory (MB) of the functions the replay stands in for, as configured in lib/. */
export const FUNCTION_MEMORY_MB = {
  collector: 256,
  scorer: 512,
  embeddedTrainer: 1769,
  suggester: 1024,
  remediation: 512,
} as const;

/** Bytes of one EMF metric log line and of a function's own log lines per invocation (Powertools JSON). */
export const LOG_BYTES = { perMetric: 350, perInvocation: 1200 } as const;
