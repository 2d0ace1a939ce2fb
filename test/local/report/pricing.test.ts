import { FUNCTION_MEMORY_MB } from '../../../local/report/pricing';
import { synthPipemend } from '../../helpers/synth';

/** The report's cost estimate prices each function at the memory the stack deploys it with. */
describe('FUNCTION_MEMORY_MB', () => {
  const { template } = synthPipemend();
  const functions = template.findResources('AWS::Lambda::Function');
  const memoryOf = (logicalIdPrefix: string): unknown =>
    Object.entries(functions).find(([id]) => id.startsWith(logicalIdPrefix))?.[1].Properties?.MemorySize;

  test.each([
    ['collector', 'CollectionCollector'],
    ['scorer', 'ScoringScorer'],
    ['embeddedTrainer', 'EmbeddedTrainingTrainer'],
    ['suggester', 'FixSuggestionsSuggester'],
    ['remediation', 'RemediationClassify'],
  ] as const)('%s matches the deployed function %s', (name, logicalIdPrefix) => {
    expect(memoryOf(logicalIdPrefix)).toBe(FUNCTION_MEMORY_MB[name]);
  });
});
