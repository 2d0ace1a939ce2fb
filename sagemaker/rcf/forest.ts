import { SeededRandom } from './random';
import { TimeDecaySampler } from './sampler';
import { RandomCutTree } from './tree';

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
  readonly version: 1;
  readonly options: ResolvedForestOptions;
  readonly random: number[];
  readonly updates: number;
  readonly shingle: number[];
  readonly trees: SerializedTree[];
}

export interface SerializedTree {
  readonly root: number;
  readonly freeInternalCount: number;
  readonly freeLeafCount: number;
  readonly samplerSize: number;
  /** left, right, parent, cutDimension, mass, freeInternal, freeLeaves, sampler leaves. */
  readonly int32: string;
  /** cutValue, leaf points, sampler weights. */
  readonly float64: string;
}

export class InvalidPointError extends Error {
  override readonly name = 'InvalidPointError';
}

/**
 * A Random Cut Forest (Guha et al., ICML 2016) scored the way AWS's randomcutforest library and
 * SageMaker's built-in RCF score: ordinary points score about 1, anomalies clearly higher.
 * Score first, then update, for a streaming detector.
 */
export class RandomCutForest {
  readonly dimensions: number;
  readonly options: ResolvedForestOptions;
  private readonly trees: RandomCutTree[];
  private readonly samplers: TimeDecaySampler[];
  private random: SeededRandom;
  private updates = 0;
  /** The last `shingleSize` input points, oldest first. */
  private readonly shingle: Float64Array;
  private readonly treePoint: Float64Array;
  private readonly attributionScratch: Float64Array;

  constructor(options: ForestOptions) {
    this.options = resolveOptions(options);
    const { dimensions, numTrees, sampleSize, shingleSize, seed } = this.options;
    this.dimensions = dimensions;
    const treeDimensions = dimensions * shingleSize;
    this.trees = Array.from({ length: numTrees }, () => new RandomCutTree(treeDimensions, sampleSize));
    this.samplers = Array.from({ length: numTrees }, () => new TimeDecaySampler(sampleSize));
    this.random = new SeededRandom(seed);
    this.shingle = new Float64Array(treeDimensions);
    this.treePoint = new Float64Array(treeDimensions);
    this.attributionScratch = new Float64Array(treeDimensions);
  }

  /** Points the trees have been updated with (after the shingle filled). */
  get treeUpdates(): number {
    return Math.max(0, this.updates - this.options.shingleSize + 1);
  }

  /** Whether {@link score} is meaningful yet (enough points seen). */
  get isReady(): boolean {
    return this.treeUpdates >= this.options.outputAfter && this.treeUpdates > 0;
  }

  /** AWS-scaled anomaly score of a point (does not change the forest); 0 until {@link isReady}. */
  score(point: readonly number[]): number {
    if (!this.prepareTreePoint(point)) return 0;
    let total = 0;
    for (const tree of this.trees) total += tree.score(this.treePoint);
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
    const d = this.dimensions;
    this.shingle.copyWithin(0, d);
    this.shingle.set(point, this.shingle.length - d);
    this.updates++;
    if (this.updates < this.options.shingleSize) return;
    const sequence = this.updates;
    const decay = this.options.timeDecay;
    for (let t = 0; t < this.trees.length; t++) {
      const sampler = this.samplers[t] as TimeDecaySampler;
      const tree = this.trees[t] as RandomCutTree;
      const weight = Math.log(-Math.log(this.random.nextOpen())) - decay * sequence;
      if (!sampler.accepts(weight)) continue;
      if (sampler.isFull) tree.delete(sampler.evictionCandidate);
      sampler.add(weight, tree.insert(this.shingle, this.random));
    }
  }

  toJSON(): SerializedForest {
    const { sampleSize } = this.options;
    const trees = this.trees.map((tree, index): SerializedTree => {
      const state = tree.toState();
      const sampler = (this.samplers[index] as TimeDecaySampler).toState();
      const ints = new Int32Array(9 * sampleSize + sampler.leaves.length);
      let offset = 0;
      for (const part of [
        state.left,
        state.right,
        state.parent,
        state.cutDimension,
        state.mass,
        state.freeInternal,
        state.freeLeaves,
        sampler.leaves,
      ]) {
        ints.set(part, offset);
        offset += part.length;
      }
      const floats = new Float64Array(
        state.cutValue.length + state.leafPoint.length + sampler.weights.length,
      );
      floats.set(state.cutValue, 0);
      floats.set(state.leafPoint, state.cutValue.length);
      floats.set(sampler.weights, state.cutValue.length + state.leafPoint.length);
      return {
        root: state.root,
        freeInternalCount: state.freeInternalCount,
        freeLeafCount: state.freeLeafCount,
        samplerSize: sampler.leaves.length,
        int32: toBase64(ints),
        float64: toBase64(floats),
      };
    });
    return {
      format: 'pipemend-rcf',
      version: 1,
      options: { ...this.options },
      random: this.random.state,
      updates: this.updates,
      shingle: Array.from(this.shingle),
      trees,
    };
  }

  static fromJSON(json: SerializedForest): RandomCutForest {
    if (json?.format !== 'pipemend-rcf' || json.version !== 1) {
      throw new Error(
        `Not a serialized Pipemend forest (format ${String(json?.format)}, version ${String(json?.version)})`,
      );
    }
    const forest = new RandomCutForest(json.options);
    const { sampleSize, numTrees } = forest.options;
    const treeDimensions = forest.shingle.length;
    if (json.trees.length !== numTrees) {
      throw new Error(`Serialized forest has ${json.trees.length} trees, its options say ${numTrees}`);
    }
    if (json.shingle.length !== treeDimensions) {
      throw new Error(`Serialized shingle has ${json.shingle.length} values, expected ${treeDimensions}`);
    }
    forest.random = SeededRandom.fromState(json.random);
    forest.updates = json.updates;
    forest.shingle.set(json.shingle);
    json.trees.forEach((serialized, index) => {
      const ints = fromBase64(serialized.int32, Int32Array);
      const floats = fromBase64(serialized.float64, Float64Array);
      const size = serialized.samplerSize;
      if (
        ints.length !== 9 * sampleSize + size ||
        floats.length !== sampleSize + sampleSize * treeDimensions + size
      ) {
        throw new Error(
          `Serialized tree ${index} has arrays of the wrong length for sample size ${sampleSize}`,
        );
      }
      let offset = 0;
      const take = (length: number): Int32Array => ints.subarray(offset, (offset += length));
      const left = take(sampleSize);
      const right = take(sampleSize);
      const parent = take(2 * sampleSize);
      const cutDimension = take(sampleSize);
      const mass = take(2 * sampleSize);
      const freeInternal = take(sampleSize);
      const freeLeaves = take(sampleSize);
      const samplerLeaves = take(size);
      const leafPointEnd = sampleSize + sampleSize * treeDimensions;
      forest.trees[index] = RandomCutTree.fromState(treeDimensions, sampleSize, {
        root: serialized.root,
        left,
        right,
        parent,
        cutDimension,
        cutValue: floats.subarray(0, sampleSize),
        mass,
        leafPoint: floats.subarray(sampleSize, leafPointEnd),
        freeInternal,
        freeInternalCount: serialized.freeInternalCount,
        freeLeaves,
        freeLeafCount: serialized.freeLeafCount,
      });
      forest.samplers[index] = TimeDecaySampler.fromState(sampleSize, {
        weights: floats.subarray(leafPointEnd),
        leaves: samplerLeaves,
      });
    });
    return forest;
  }

  /** Writes the shingled tree point for `point` into {@link treePoint}; false while not ready. */
  private prepareTreePoint(point: readonly number[]): boolean {
    this.validate(point);
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
      if (!Number.isFinite(point[i])) {
        throw new InvalidPointError(`Point value ${i} is ${String(point[i])}, expected a finite number`);
      }
    }
  }
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

function toBase64(array: Int32Array | Float64Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function fromBase64<T extends Int32Array | Float64Array>(
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
