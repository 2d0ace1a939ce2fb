import { SeededRandom } from './random';
import { TimeDecaySampler } from './sampler';
import { NO_NODE, RandomCutTree } from './tree';

export interface ForestOptions {
  /** Values per input point (before shingling). */
  readonly dimensions: number;
  /** @default 100 */
  readonly numTrees?: number;
  /** Points each tree samples. @default 256 */
  readonly sampleSize?: number;
  /** Consecutive input points concatenated into one tree point (internal shingling). @default 1 */
  readonly shingleSize?: number;
  /** Sampler time decay; 0 samples uniformly over the whole stream. @default 1 / (10 * sampleSize), as AWS */
  readonly timeDecay?: number;
  /** @default 0 */
  readonly seed?: number;
  /** Points the trees must have seen before {@link RandomCutForest.score} returns non-zero. @default sampleSize / 4, as AWS */
  readonly outputAfter?: number;
}

export type ResolvedForestOptions = Required<ForestOptions>;

/** Compact, JSON-safe form of a forest: typed arrays as base64 (little-endian), boxes rebuilt on load. */
export interface SerializedForest {
  readonly format: 'pipemend-rcf';
  readonly version: 2;
  readonly options: ResolvedForestOptions;
  readonly updates: number;
  readonly shingle: number[];
  readonly trees: SerializedTree[];
}

export interface SerializedTree {
  readonly root: number;
  readonly freeInternalCount: number;
  readonly freeLeafCount: number;
  readonly samplerSize: number;
  /** The tree's random generator, so a restored forest continues the same sequence. */
  readonly random: number[];
  /** left, right, parent, cutDimension, leafMass, freeInternal, freeLeaves, sampler leaves. */
  readonly int32: string;
  /** cutValue, leaf points. */
  readonly float32: string;
  /** sampler weights. */
  readonly float64: string;
}

export class InvalidPointError extends Error {
  override readonly name = 'InvalidPointError';

  /**
   * @param problem what is wrong with the point
   * @param index which point of a batch it is, when it comes from one
   */
  constructor(
    readonly problem: string,
    readonly index?: number,
  ) {
    super(index === undefined ? problem : `Point ${index}: ${problem}`);
  }
}

/** Largest magnitude a single-precision tree point can hold. */
const FLOAT32_MAX = 3.4028234663852886e38;
/** Points per block of {@link RandomCutForest.scoreAndUpdate}: a tree's arrays stay in cache for a block. */
const BLOCK_POINTS = 256;

/**
 * A Random Cut Forest (Guha et al., ICML 2016) scored the way AWS's randomcutforest library and
 * SageMaker's built-in RCF score: ordinary points score about 1, anomalies clearly higher.
 * Score first, then update, for a streaming detector. Each tree draws from its own seeded
 * generator (as in AWS's library), so a tree's evolution does not depend on the order in which
 * the trees are visited: {@link scoreAndUpdate} can visit them tree by tree.
 */
export class RandomCutForest {
  readonly dimensions: number;
  readonly options: ResolvedForestOptions;
  private readonly trees: RandomCutTree[];
  private readonly samplers: TimeDecaySampler[];
  private readonly randoms: SeededRandom[];
  private updates = 0;
  /** The last `shingleSize` input points, oldest first, as the trees store them. */
  private readonly shingle: Float32Array;
  private readonly treePoint: Float32Array;
  private readonly attributionScratch: Float64Array;
  /** Whether every tree's last descent was a score() of {@link treePoint}. */
  private scoredTreePoint = false;

  constructor(options: ForestOptions) {
    this.options = resolveOptions(options);
    const { dimensions, numTrees, sampleSize, shingleSize, seed, timeDecay } = this.options;
    this.dimensions = dimensions;
    const treeDimensions = dimensions * shingleSize;
    this.trees = Array.from(
      { length: numTrees },
      () => new RandomCutTree(treeDimensions, treeCapacity(sampleSize)),
    );
    this.samplers = Array.from({ length: numTrees }, () => new TimeDecaySampler(sampleSize, timeDecay));
    const seeds = new SeededRandom(seed);
    this.randoms = Array.from({ length: numTrees }, () => new SeededRandom(seeds.nextUint32()));
    this.shingle = new Float32Array(treeDimensions);
    this.treePoint = new Float32Array(treeDimensions);
    this.attributionScratch = new Float64Array(treeDimensions);
  }

  /** Further points to update with before {@link isReady}. */
  get pointsUntilReady(): number {
    const { outputAfter, shingleSize } = this.options;
    return Math.max(0, Math.max(outputAfter, 1) + shingleSize - 1 - this.updates);
  }

  /** Whether {@link score} is meaningful yet (enough points seen). */
  get isReady(): boolean {
    return this.pointsUntilReady === 0;
  }

  /** AWS-scaled anomaly score of a point (does not change the forest); 0 until {@link isReady}. */
  score(point: readonly number[]): number {
    if (!this.prepareTreePoint(point)) return 0;
    let total = 0;
    for (const tree of this.trees) total += tree.score(this.treePoint);
    this.scoredTreePoint = true;
    return total / this.trees.length;
  }

  /** Per-dimension contribution (summed over shingle positions); sums to score(point). */
  attribution(point: readonly number[]): number[] {
    const result = new Array<number>(this.dimensions).fill(0);
    if (!this.prepareTreePoint(point)) return result;
    this.attributionScratch.fill(0);
    for (const tree of this.trees) tree.addAttribution(this.treePoint, this.attributionScratch);
    const numTrees = this.trees.length;
    for (let i = 0; i < this.attributionScratch.length; i++) {
      const dimension = i % this.dimensions;
      result[dimension] = (result[dimension] as number) + (this.attributionScratch[i] as number) / numTrees;
    }
    return result;
  }

  /** Inserts the point into the trees' reservoirs (streaming sampling with time decay, deleting evicted points). */
  update(point: readonly number[]): void {
    this.validate(point);
    this.pushShingle(point);
    if (!this.shingleFull) return;
    // After score(point), every tree's last descent was for this very vector.
    const scored = this.scoredTreePoint && sameValues(this.treePoint, this.shingle);
    this.scoredTreePoint = false;
    for (let t = 0; t < this.trees.length; t++) this.updateTree(t, this.shingle, this.updates, scored);
  }

  /**
   * {@link score} then {@link update} for each point in order, with exactly the same results, but
   * tree by tree over blocks of points: one tree's arrays stay in cache while it scores and samples
   * a block, instead of every tree being fetched again for every point. Returns the scores.
   * Every point is validated first: an invalid one changes nothing and is named by its index.
   */
  scoreAndUpdate(points: readonly (readonly number[])[]): Float64Array {
    points.forEach((point, index) => {
      try {
        this.validate(point);
      } catch (error) {
        if (error instanceof InvalidPointError) throw new InvalidPointError(error.problem, index);
        throw error;
      }
    });
    this.scoredTreePoint = false;
    const scores = new Float64Array(points.length);
    const width = this.shingle.length;
    const vectors = Array.from(
      { length: Math.min(points.length, BLOCK_POINTS) },
      () => new Float32Array(width),
    );
    const scored = new Uint8Array(BLOCK_POINTS);
    const sequences = new Float64Array(BLOCK_POINTS);
    for (let start = 0; start < points.length; start += BLOCK_POINTS) {
      const end = Math.min(points.length, start + BLOCK_POINTS);
      // The shingle after each point is both the vector it is scored as and the one inserted.
      for (let i = start; i < end; i++) {
        const point = points[i] as readonly number[];
        scored[i - start] = this.isReady ? 1 : 0;
        this.pushShingle(point);
        sequences[i - start] = this.shingleFull ? this.updates : 0;
        (vectors[i - start] as Float32Array).set(this.shingle);
      }
      for (let t = 0; t < this.trees.length; t++) {
        const tree = this.trees[t] as RandomCutTree;
        for (let i = start; i < end; i++) {
          const vector = vectors[i - start] as Float32Array;
          if (scored[i - start] === 1) scores[i] = (scores[i] as number) + tree.score(vector);
          const sequence = sequences[i - start] as number;
          if (sequence > 0) this.updateTree(t, vector, sequence, scored[i - start] === 1);
        }
      }
      for (let i = start; i < end; i++) scores[i] = (scores[i] as number) / this.trees.length;
    }
    return scores;
  }

  toJSON(): SerializedForest {
    const capacity = treeCapacity(this.options.sampleSize);
    const trees = this.trees.map((tree, index): SerializedTree => {
      const state = tree.toState();
      const sampler = (this.samplers[index] as TimeDecaySampler).toState();
      return {
        root: state.root,
        freeInternalCount: state.freeInternalCount,
        freeLeafCount: state.freeLeafCount,
        samplerSize: sampler.leaves.length,
        random: (this.randoms[index] as SeededRandom).state,
        int32: toBase64(
          concat(new Int32Array(8 * capacity + sampler.leaves.length), [
            state.left,
            state.right,
            state.parent,
            state.cutDimension,
            state.leafMass,
            state.freeInternal,
            state.freeLeaves,
            sampler.leaves,
          ]),
        ),
        float32: toBase64(
          concat(new Float32Array(state.cutValue.length + state.leafPoint.length), [
            state.cutValue,
            state.leafPoint,
          ]),
        ),
        float64: toBase64(sampler.weights),
      };
    });
    return {
      format: 'pipemend-rcf',
      version: 2,
      options: { ...this.options },
      updates: this.updates,
      shingle: Array.from(this.shingle),
      trees,
    };
  }

  static fromJSON(json: SerializedForest): RandomCutForest {
    if (json?.format !== 'pipemend-rcf' || (json.version as number) !== 2) {
      throw new Error(
        `Not a serialized Pipemend forest of version 2 (format ${String(json?.format)}, version ${String(json?.version)}): retrain the model`,
      );
    }
    const forest = new RandomCutForest(json.options);
    const { sampleSize, numTrees } = forest.options;
    const capacity = treeCapacity(sampleSize);
    const treeDimensions = forest.shingle.length;
    if (json.trees.length !== numTrees) {
      throw new Error(`Serialized forest has ${json.trees.length} trees, its options say ${numTrees}`);
    }
    if (json.shingle.length !== treeDimensions) {
      throw new Error(`Serialized shingle has ${json.shingle.length} values, expected ${treeDimensions}`);
    }
    forest.updates = json.updates;
    forest.shingle.set(json.shingle);
    json.trees.forEach((serialized, index) => {
      const ints = fromBase64(serialized.int32, Int32Array);
      const floats = fromBase64(serialized.float32, Float32Array);
      const weights = fromBase64(serialized.float64, Float64Array);
      const size = serialized.samplerSize;
      if (
        ints.length !== 8 * capacity + size ||
        floats.length !== capacity + capacity * treeDimensions ||
        weights.length !== size
      ) {
        throw new Error(
          `Serialized tree ${index} has arrays of the wrong length for sample size ${sampleSize}`,
        );
      }
      let offset = 0;
      const take = (length: number): Int32Array => ints.subarray(offset, (offset += length));
      forest.trees[index] = RandomCutTree.fromState(treeDimensions, capacity, {
        root: serialized.root,
        left: take(capacity),
        right: take(capacity),
        parent: take(2 * capacity),
        cutDimension: take(capacity),
        leafMass: take(capacity),
        freeInternal: take(capacity),
        freeInternalCount: serialized.freeInternalCount,
        freeLeaves: take(capacity),
        freeLeafCount: serialized.freeLeafCount,
        cutValue: floats.subarray(0, capacity),
        leafPoint: floats.subarray(capacity),
      });
      forest.samplers[index] = TimeDecaySampler.fromState(sampleSize, forest.options.timeDecay, {
        weights,
        leaves: take(size),
      });
      forest.randoms[index] = SeededRandom.fromState(serialized.random);
    });
    return forest;
  }

  /**
   * Offers the tree point `vector`, the stream's `sequence`-th, to tree `t`'s reservoir. `scored`:
   * the tree scored exactly this vector last, so insertion can reuse that descent; the evicted
   * point is deleted after the insertion for the same reason (either order gives a random cut tree
   * of the new sample: insertion and deletion each preserve that distribution).
   */
  private updateTree(t: number, vector: Float32Array, sequence: number, scored: boolean): void {
    const sampler = this.samplers[t] as TimeDecaySampler;
    const random = this.randoms[t] as SeededRandom;
    const weight = sampler.offer(random.nextOpen(), sequence);
    if (weight === undefined) return;
    const tree = this.trees[t] as RandomCutTree;
    const evicted = sampler.isFull ? sampler.evictionCandidate : NO_NODE;
    const leaf = scored ? tree.insertScored(vector, random) : tree.insert(vector, random);
    if (evicted !== NO_NODE) tree.delete(evicted);
    sampler.add(weight, leaf);
  }

  /** Whether enough points arrived to fill the shingle: only then do the trees take points. */
  private get shingleFull(): boolean {
    return this.updates >= this.options.shingleSize;
  }

  private pushShingle(point: readonly number[]): void {
    const d = this.dimensions;
    this.shingle.copyWithin(0, d);
    this.shingle.set(point, this.shingle.length - d);
    this.updates++;
  }

  /** Writes the shingled tree point for `point` into {@link treePoint}; false while not ready. */
  private prepareTreePoint(point: readonly number[]): boolean {
    this.validate(point);
    this.scoredTreePoint = false;
    if (!this.isReady) return false;
    const d = this.dimensions;
    this.treePoint.set(this.shingle.subarray(d), 0);
    this.treePoint.set(point, this.treePoint.length - d);
    return true;
  }

  private validate(point: readonly number[]): void {
    if (point.length !== this.dimensions) {
      throw new InvalidPointError(`Point has ${point.length} values, the forest expects ${this.dimensions}`);
    }
    for (let i = 0; i < point.length; i++) {
      const value = point[i] as number;
      if (!Number.isFinite(value)) {
        throw new InvalidPointError(`Point value ${i} is ${String(value)}, expected a finite number`);
      }
      if (Math.abs(value) > FLOAT32_MAX) {
        throw new InvalidPointError(
          `Point value ${i} is ${value}, beyond the single-precision range (±${FLOAT32_MAX.toExponential(4)}) trees store`,
        );
      }
    }
  }
}

/** A tree holds the sample plus the arriving point, which is inserted before the evicted one goes. */
function treeCapacity(sampleSize: number): number {
  return sampleSize + 1;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function resolveOptions(options: ForestOptions): ResolvedForestOptions {
  const sampleSize = options.sampleSize ?? 256;
  const resolved: ResolvedForestOptions = {
    dimensions: options.dimensions,
    numTrees: options.numTrees ?? 100,
    sampleSize,
    shingleSize: options.shingleSize ?? 1,
    timeDecay: options.timeDecay ?? 1 / (10 * sampleSize),
    seed: options.seed ?? 0,
    outputAfter: options.outputAfter ?? Math.max(1, Math.floor(sampleSize / 4)),
  };
  const positiveInteger = (name: keyof ResolvedForestOptions, minimum: number): void => {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < minimum) {
      throw new RangeError(`Forest option ${name} must be an integer of at least ${minimum}, got ${value}`);
    }
  };
  positiveInteger('dimensions', 1);
  positiveInteger('numTrees', 1);
  positiveInteger('sampleSize', 2);
  positiveInteger('shingleSize', 1);
  positiveInteger('outputAfter', 0);
  if (!Number.isInteger(resolved.seed)) {
    throw new RangeError(`Forest option seed must be an integer, got ${resolved.seed}`);
  }
  if (!Number.isFinite(resolved.timeDecay) || resolved.timeDecay < 0) {
    throw new RangeError(`Forest option timeDecay must be a finite number >= 0, got ${resolved.timeDecay}`);
  }
  return resolved;
}

function concat<T extends Int32Array | Float32Array>(target: T, parts: readonly ArrayLike<number>[]): T {
  let offset = 0;
  for (const part of parts) {
    target.set(part, offset);
    offset += part.length;
  }
  return target;
}

function toBase64(array: Int32Array | Float32Array | Float64Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function fromBase64<T extends Int32Array | Float32Array | Float64Array>(
  text: string,
  type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % type.BYTES_PER_ELEMENT !== 0) {
    throw new Error(
      `Serialized array of ${bytes.byteLength} bytes is not a whole number of ${type.BYTES_PER_ELEMENT}-byte values`,
    );
  }
  // Copy into a fresh, aligned buffer: Buffer's pooled memory may be unaligned for typed arrays.
  const aligned = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(aligned).set(bytes);
  return new type(aligned);
}
