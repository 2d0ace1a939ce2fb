/**
 * A tree's reservoir with time decay (as in AWS's compact sampler): each arriving point gets the
 * weight log(-log(u)) - timeDecay * sequence and the sampler keeps the `capacity` smallest weights,
 * so with no decay it is a uniform reservoir sample and with decay recent points are favoured.
 * A max-heap puts the point to evict (the largest weight) on top.
 */
export class TimeDecaySampler {
  readonly capacity: number;
  private readonly weights: Float64Array;
  private readonly leaves: Int32Array;
  private count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.weights = new Float64Array(capacity);
    this.leaves = new Int32Array(capacity);
  }

  static fromState(capacity: number, state: SamplerState): TimeDecaySampler {
    if (state.weights.length !== state.leaves.length || state.weights.length > capacity) {
      throw new Error(
        `Serialized sampler holds ${state.weights.length} weights and ${state.leaves.length} leaves; capacity is ${capacity}`,
      );
    }
    const sampler = new TimeDecaySampler(capacity);
    sampler.weights.set(state.weights);
    sampler.leaves.set(state.leaves);
    sampler.count = state.weights.length;
    return sampler;
  }

  toState(): SamplerState {
    return { weights: this.weights.slice(0, this.count), leaves: this.leaves.slice(0, this.count) };
  }

  get size(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count === this.capacity;
  }

  /** Whether a point with this weight enters the sample (evicting {@link evictionCandidate} when full). */
  accepts(weight: number): boolean {
    return this.count < this.capacity || weight < (this.weights[0] as number);
  }

  /** The tree leaf the next accepted point evicts (only meaningful when full). */
  get evictionCandidate(): number {
    return this.leaves[0] as number;
  }

  /** Adds an accepted point; when full it replaces the eviction candidate. */
  add(weight: number, leaf: number): void {
    if (this.count < this.capacity) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if ((this.weights[parent] as number) >= weight) break;
        this.weights[i] = this.weights[parent] as number;
        this.leaves[i] = this.leaves[parent] as number;
        i = parent;
      }
      this.weights[i] = weight;
      this.leaves[i] = leaf;
      return;
    }
    let i = 0;
    const n = this.count;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const larger = r < n && (this.weights[r] as number) > (this.weights[l] as number) ? r : l;
      if ((this.weights[larger] as number) <= weight) break;
      this.weights[i] = this.weights[larger] as number;
      this.leaves[i] = this.leaves[larger] as number;
      i = larger;
    }
    this.weights[i] = weight;
    this.leaves[i] = leaf;
  }
}

export interface SamplerState {
  readonly weights: Float64Array;
  readonly leaves: Int32Array;
}
