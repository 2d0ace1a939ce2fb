/** Sequences for which a rejection bound stays valid: it is recomputed after every accepted point anyway. */
const BOUND_HORIZON = 64;
/** Relative margin that keeps the fast rejection clear of rounding in the exact weight. */
const BOUND_MARGIN = 1e-6;

/**
 * A tree's reservoir with time decay (as in AWS's compact sampler): each arriving point gets the
 * weight log(-log(u)) - timeDecay * sequence and the sampler keeps the `capacity` smallest weights,
 * so with no decay it is a uniform reservoir sample and with decay recent points are favoured.
 * A max-heap puts the point to evict (the largest weight) on top.
 */
export class TimeDecaySampler {
  readonly capacity: number;
  readonly timeDecay: number;
  private readonly weights: Float64Array;
  private readonly leaves: Int32Array;
  private count = 0;
  /**
   * A full sampler rejects most draws. log(-log(u)) falls as u rises, so a draw is rejected exactly
   * when u <= exp(-exp(maxWeight + timeDecay * sequence)); that threshold only falls as the sequence
   * grows, so its value at the end of a short horizon, less a margin, rejects most draws for sure
   * without the two logarithms. Draws above it get the exact test.
   */
  private rejectAtOrBelow = 0;
  private boundValidUntil = -Infinity;

  constructor(capacity: number, timeDecay: number) {
    this.capacity = capacity;
    this.timeDecay = timeDecay;
    this.weights = new Float64Array(capacity);
    this.leaves = new Int32Array(capacity);
  }

  static fromState(capacity: number, timeDecay: number, state: SamplerState): TimeDecaySampler {
    if (state.weights.length !== state.leaves.length || state.weights.length > capacity) {
      throw new Error(
        `Serialized sampler holds ${state.weights.length} weights and ${state.leaves.length} leaves; capacity is ${capacity}`,
      );
    }
    const sampler = new TimeDecaySampler(capacity, timeDecay);
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

  /**
   * The weight of the point drawn `u` (uniform in (0, 1)) at `sequence` when it enters the sample
   * (evicting {@link evictionCandidate} when full), undefined when it does not.
   */
  offer(u: number, sequence: number): number | undefined {
    if (this.count === this.capacity) {
      if (sequence > this.boundValidUntil) this.refreshBound(sequence);
      if (u <= this.rejectAtOrBelow) return undefined;
    }
    const weight = Math.log(-Math.log(u)) - this.timeDecay * sequence;
    return this.count < this.capacity || weight < (this.weights[0] as number) ? weight : undefined;
  }

  private refreshBound(sequence: number): void {
    const horizon = sequence + BOUND_HORIZON;
    const threshold = Math.exp(-Math.exp((this.weights[0] as number) + this.timeDecay * horizon));
    this.rejectAtOrBelow = threshold * (1 - BOUND_MARGIN);
    this.boundValidUntil = horizon;
  }

  /** The tree leaf the next accepted point evicts (only meaningful when full). */
  get evictionCandidate(): number {
    return this.leaves[0] as number;
  }

  /** Adds an accepted point; when full it replaces the eviction candidate. */
  add(weight: number, leaf: number): void {
    this.boundValidUntil = -Infinity;
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
