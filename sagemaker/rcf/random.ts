/**
 * Deterministic xoshiro128** generator: 128 bits of state, fast on 32-bit integer maths, and its
 * state serializes as four numbers so a restored forest continues the exact same random sequence.
 * The words are kept as signed 32-bit integers: V8 stores those unboxed, while unsigned words above
 * 2^31 would be heap numbers and make every draw several times slower.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 spreads any integer seed (even 0) over the whole state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next() | 0;
    this.s1 = next() | 0;
    this.s2 = next() | 0;
    this.s3 = next() | 0;
  }

  /** Restores a generator from {@link state}. */
  static fromState(state: readonly number[]): SeededRandom {
    if (
      state.length !== 4 ||
      state.some((word) => !Number.isInteger(word) || word < 0 || word > 0xffffffff)
    ) {
      throw new Error('Random state must be four unsigned 32-bit integers');
    }
    const random = new SeededRandom(0);
    const [s0, s1, s2, s3] = state as [number, number, number, number];
    random.s0 = s0 | 0;
    random.s1 = s1 | 0;
    random.s2 = s2 | 0;
    random.s3 = s3 | 0;
    return random;
  }

  get state(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    this.s2 = s2 ^ (s1 << 9);
    this.s3 = rotl(s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in the open interval (0, 1): safe to take the logarithm of. */
  nextOpen(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
