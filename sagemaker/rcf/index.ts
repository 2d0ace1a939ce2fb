export { detect, normalTail, StreamingDetector } from './detector';
export type { DetectorOptions } from './detector';
export { InvalidPointError, RandomCutForest } from './forest';
export type { ForestOptions, ResolvedForestOptions, SerializedForest, SerializedTree } from './forest';
export { SeededRandom } from './random';
export { sagemakerThreshold, StreamingThresholder } from './threshold';
export type { SagemakerThreshold, ThresholdedScore, ThresholderOptions } from './threshold';
export { trainForest } from './train';
export type { TrainedForest } from './train';
