import { SeededRandom } from '../../../sagemaker/rcf';
import { TimeDecaySampler } from '../../../sagemaker/rcf/sampler';

describe('TimeDecaySampler', () => {
  it('accepts a draw exactly when its weight is below the largest weight held', () => {
    const decay = 1 / 640;
    const sampler = new TimeDecaySampler(64, decay);
    const random = new SeededRandom(8);
    const mismatches: string[] = [];
    for (let sequence = 1; sequence <= 20_000; sequence++) {
      const u = random.nextOpen();
      const weight = Math.log(-Math.log(u)) - decay * sequence;
      const held = sampler.toState().weights;
      const expected = !sampler.isFull || weight < Math.max(...held) ? weight : undefined;
      const offered = sampler.offer(u, sequence);
      if (offered !== expected) mismatches.push(`draw ${sequence}: offered ${offered}, expected ${expected}`);
      if (offered !== undefined) sampler.add(offered, sequence);
    }
    expect(mismatches).toEqual([]);
    expect(sampler.size).toBe(64);
  });

  it('keeps the most recent points when the decay is strong', () => {
    const sampler = new TimeDecaySampler(10, 1);
    const random = new SeededRandom(2);
    for (let sequence = 1; sequence <= 1000; sequence++) {
      const weight = sampler.offer(random.nextOpen(), sequence);
      if (weight !== undefined) {
        sampler.add(weight, sequence);
      }
    }
    expect(Math.min(...sampler.toState().leaves)).toBeGreaterThan(950);
  });
});
