import { SeededRandom } from './random';

/** No node: an empty tree's root, the root's parent. */
export const NO_NODE = -1;

// An internal node's 24-byte cut record, seen as 3 float64, 6 float32 or 6 int32: the sum of its
// box's ranges (float64 0), the cut value (float32 2), then cut dimension, left and right (int32
// 3, 4, 5). A descent reads one record per step, and scoring reuses the range sum from it.
const CUT_RECORD_FLOAT64S = 3;
const CUT_RECORD_WORDS = 6;
const CUT_VALUE = 2;
const CUT_DIMENSION = 3;
const LEFT = 4;
const RIGHT = 5;

/** The arrays that fully describe a tree; bounding boxes and range sums are derived from them. */
export interface TreeState {
  readonly root: number;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly parent: Int32Array;
  readonly cutDimension: Int32Array;
  readonly cutValue: Float32Array;
  readonly leafMass: Int32Array;
  readonly leafPoint: Float32Array;
  readonly freeInternal: Int32Array;
  readonly freeInternalCount: number;
  readonly freeLeaves: Int32Array;
  readonly freeLeafCount: number;
}

/**
 * A robust random cut tree (Guha et al., ICML 2016) over at most `capacity` distinct points, stored
 * in flat typed arrays so scoring and updating allocate nothing.
 *
 * Points, boxes and cuts are single precision, as in AWS's Java library: a tree's working set is
 * half as large, so more of a forest stays in cache, which is what bounds scoring. A box is the exact
 * min/max of float32 points, so it is stored without rounding; arithmetic is in double precision.
 *
 * Node ids: internal nodes are `0 .. capacity - 2`; leaves are `capacity + slot` for a leaf slot in
 * `0 .. capacity - 1`. A leaf holds one distinct point with a mass (how many sampled copies of it the
 * tree holds). Every internal node keeps the exact bounding box of the points below it: insertion
 * extends boxes, deletion shrinks them from the children, so a box is always the true min/max.
 */
export class RandomCutTree {
  readonly dimensions: number;
  readonly capacity: number;
  private rootNode = NO_NODE;
  /** Cut records (see CUT_RECORD_WORDS) through three views of one buffer. */
  private readonly rangeSums: Float64Array;
  private readonly cutValues: Float32Array;
  private readonly links: Int32Array;
  /**
   * Internal nodes' boxes, then leaves' points, in one array so that a child's bounds are found
   * the same way whichever kind of node it is (see {@link lowOffset}).
   */
  private readonly bounds: Float32Array;
  /** Per internal node, its box's `dimensions` minima, then its maxima (a view of {@link bounds}). */
  private readonly boxes: Float32Array;
  private readonly parent: Int32Array;
  /**
   * Copies of each leaf's point, by leaf slot. Internal nodes keep no mass: scoring needs only the
   * leaf's and the tree's, and skipping it spares every update a walk to the root.
   */
  private readonly leafMass: Int32Array;
  private massTotal = 0;
  /** Per leaf slot, its point (a view of {@link bounds}). */
  private readonly leafPoints: Float32Array;
  private readonly freeInternal: Int32Array;
  private freeInternalCount: number;
  private readonly freeLeaves: Int32Array;
  private freeLeafCount: number;
  /** Scratch: the path from the root to a leaf while scoring or inserting. */
  private readonly path: Int32Array;
  /** Scratch from the last {@link score}, for {@link insertScored}: how far the point lay outside each box on the path. */
  private readonly grownAt: Float64Array;
  /** Whether the tree is unchanged since the last {@link score}, and its scratch still from it. */
  private scoredPathValid = false;
  /** The leaf's depth in the last {@link score} (-1 for an empty tree). */
  private scoredDepth = -1;
  /** The deepest level of the last {@link score}'s path whose box held the point (-1: none). */
  private scoredInsideLevel = -1;
  /** log2(mass + 1) for the tree mass {@link normalizedMass}: it rarely changes once the sample is full. */
  private normalizer = 0;
  private normalizedMass = 0;

  constructor(dimensions: number, capacity: number) {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new Error(`Tree dimensions must be a positive integer, got ${dimensions}`);
    }
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new Error(`Tree capacity must be an integer of at least 2, got ${capacity}`);
    }
    this.dimensions = dimensions;
    this.capacity = capacity;
    const cutRecords = new ArrayBuffer(capacity * CUT_RECORD_WORDS * Int32Array.BYTES_PER_ELEMENT);
    this.rangeSums = new Float64Array(cutRecords);
    this.cutValues = new Float32Array(cutRecords);
    this.links = new Int32Array(cutRecords);
    this.bounds = new Float32Array(capacity * 3 * dimensions);
    this.boxes = this.bounds.subarray(0, capacity * 2 * dimensions);
    this.parent = new Int32Array(2 * capacity).fill(NO_NODE);
    this.leafMass = new Int32Array(capacity);
    this.leafPoints = this.bounds.subarray(capacity * 2 * dimensions);
    // Free stacks hand out low ids first, which keeps the arrays' used prefix compact.
    this.freeInternal = new Int32Array(capacity);
    this.freeLeaves = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) {
      this.freeInternal[i] = capacity - 2 - i;
      this.freeLeaves[i] = capacity - 1 - i;
    }
    this.freeInternalCount = capacity - 1;
    this.freeLeafCount = capacity;
    this.path = new Int32Array(capacity);
    this.grownAt = new Float64Array(capacity);
  }

  /** Rebuilds a tree from {@link state}; bounding boxes are recomputed (they are exact min/max). */
  static fromState(dimensions: number, capacity: number, state: TreeState): RandomCutTree {
    const tree = new RandomCutTree(dimensions, capacity);
    const expect = (name: string, actual: number, expected: number): void => {
      if (actual !== expected) {
        throw new Error(`Serialized tree ${name} has length ${actual}, expected ${expected}`);
      }
    };
    expect('left', state.left.length, capacity);
    expect('right', state.right.length, capacity);
    expect('parent', state.parent.length, 2 * capacity);
    expect('cutDimension', state.cutDimension.length, capacity);
    expect('cutValue', state.cutValue.length, capacity);
    expect('leafMass', state.leafMass.length, capacity);
    expect('leafPoint', state.leafPoint.length, capacity * dimensions);
    expect('freeInternal', state.freeInternal.length, capacity);
    expect('freeLeaves', state.freeLeaves.length, capacity);
    tree.rootNode = state.root;
    for (let node = 0; node < capacity; node++) {
      const record = node * CUT_RECORD_WORDS;
      tree.cutValues[record + CUT_VALUE] = state.cutValue[node] as number;
      tree.links[record + CUT_DIMENSION] = state.cutDimension[node] as number;
      tree.links[record + LEFT] = state.left[node] as number;
      tree.links[record + RIGHT] = state.right[node] as number;
    }
    tree.parent.set(state.parent);
    tree.leafMass.set(state.leafMass);
    tree.massTotal = state.leafMass.reduce((sum, mass) => sum + mass, 0);
    tree.leafPoints.set(state.leafPoint);
    tree.freeInternal.set(state.freeInternal);
    tree.freeInternalCount = state.freeInternalCount;
    tree.freeLeaves.set(state.freeLeaves);
    tree.freeLeafCount = state.freeLeafCount;
    if (tree.rootNode !== NO_NODE) {
      tree.recomputeBoxes(tree.rootNode);
    }
    return tree;
  }

  /** A copy of the arrays that describe this tree. */
  toState(): TreeState {
    const field = (offset: number): Int32Array => {
      const array = new Int32Array(this.capacity);
      for (let node = 0; node < this.capacity; node++)
        array[node] = this.links[node * CUT_RECORD_WORDS + offset] as number;
      return array;
    };
    const cutValue = new Float32Array(this.capacity);
    for (let node = 0; node < this.capacity; node++)
      cutValue[node] = this.cutValues[node * CUT_RECORD_WORDS + CUT_VALUE] as number;
    return {
      root: this.rootNode,
      left: field(LEFT),
      right: field(RIGHT),
      parent: this.parent.slice(),
      cutDimension: field(CUT_DIMENSION),
      cutValue,
      leafMass: this.leafMass.slice(),
      leafPoint: this.leafPoints.slice(),
      freeInternal: this.freeInternal.slice(),
      freeInternalCount: this.freeInternalCount,
      freeLeaves: this.freeLeaves.slice(),
      freeLeafCount: this.freeLeafCount,
    };
  }

  get root(): number {
    return this.rootNode;
  }

  /** Number of points held, counting duplicates. */
  get totalMass(): number {
    return this.massTotal;
  }

  isLeaf(node: number): boolean {
    return node >= this.capacity;
  }

  /** Copy of a node's bounding box (for tests and explanations). */
  boundingBox(node: number): { min: number[]; max: number[] } {
    const d = this.dimensions;
    if (this.isLeaf(node)) {
      const offset = (node - this.capacity) * d;
      const point = Array.from(this.leafPoints.subarray(offset, offset + d));
      return { min: point, max: [...point] };
    }
    const offset = node * 2 * d;
    return {
      min: Array.from(this.boxes.subarray(offset, offset + d)),
      max: Array.from(this.boxes.subarray(offset + d, offset + 2 * d)),
    };
  }

  /** Children of an internal node, for traversal in tests. */
  children(node: number): [number, number] {
    const record = node * CUT_RECORD_WORDS;
    return [this.links[record + LEFT] ?? NO_NODE, this.links[record + RIGHT] ?? NO_NODE];
  }

  /**
   * Inserts a point, choosing cuts proportional to the bounding-box ranges, and returns the leaf
   * that now holds it (an existing leaf when the same point is already in the tree).
   *
   * At each node a cut is drawn uniformly over the ranges of the node's box extended by the point;
   * it separates the point exactly when it lands in the extension. Drawing "separate or not" with
   * probability extension / extended range, then the position within the extension, has the same
   * distribution and skips the draw where the box already contains the point. A cut rounded to
   * single precision stays between the point and the box (both are single precision), or falls
   * back to the point's own value, which separates too.
   */
  insert(point: Float32Array, random: SeededRandom): number {
    this.scoredPathValid = false;
    if (this.rootNode === NO_NODE) return this.insertRoot(point);
    const d = this.dimensions;
    let node = this.rootNode;
    let level = 0;
    // Boxes that do not hold the point are a suffix of the path: a box holds its children's boxes.
    let firstOutside = -1;
    while (node < this.capacity) {
      this.path[level] = node;
      const grown = overshoot(this.boxes, node * 2 * d, d, point);
      if (grown > 0) {
        if (firstOutside < 0) firstOutside = level;
        const r = random.next() * ((this.rangeSums[node * CUT_RECORD_FLOAT64S] as number) + grown);
        if (r < grown) return this.splitOutside(level, point, r, firstOutside);
      }
      node = this.child(node, point);
      level++;
    }
    this.path[level] = node;
    return this.insertAtLeaf(level, point, random, firstOutside < 0 ? level : firstOutside);
  }

  /**
   * {@link insert} for the point {@link score} just scored, with the tree unchanged since: the same
   * draws and the same result, without the descent. Scoring walked the same path and measured how
   * far the point lies outside each box from the leaf up to the first box that holds it; above that
   * box nothing can separate the point, so only those levels take part, top down. The caller
   * guarantees `point` is the scored point; a tree changed since falls back to {@link insert}.
   */
  insertScored(point: Float32Array, random: SeededRandom): number {
    if (!this.scoredPathValid) return this.insert(point, random);
    this.scoredPathValid = false;
    const depth = this.scoredDepth;
    if (depth < 0) return this.insertRoot(point);
    const firstOutside = this.scoredInsideLevel + 1;
    for (let level = firstOutside; level < depth; level++) {
      const node = this.path[level] as number;
      const grown = this.grownAt[level] as number;
      const r = random.next() * ((this.rangeSums[node * CUT_RECORD_FLOAT64S] as number) + grown);
      if (r < grown) return this.splitOutside(level, point, r, firstOutside);
    }
    return this.insertAtLeaf(depth, point, random, firstOutside);
  }

  private insertRoot(point: Float32Array): number {
    const leaf = this.allocateLeaf(point);
    this.parent[leaf] = NO_NODE;
    this.rootNode = leaf;
    this.massTotal++;
    return leaf;
  }

  /**
   * Splits above the node at `level` of {@link path}, whose box the point lies outside of, with the
   * cut `r` into the point's extension of the box (r < the extension summed over dimensions).
   * `firstOutside`: the path's first level whose box does not hold the point.
   */
  private splitOutside(level: number, point: Float32Array, r: number, firstOutside: number): number {
    const node = this.path[level] as number;
    const d = this.dimensions;
    const offset = node * 2 * d;
    for (let dim = 0; dim < d; dim++) {
      const p = point[dim] as number;
      const lo = this.boxes[offset + dim] as number;
      const hi = this.boxes[offset + d + dim] as number;
      if (p < lo) {
        if (r < lo - p || dim === d - 1) {
          const cut = Math.fround(p + r);
          return this.splitAbove(level, point, dim, cut < lo ? cut : p, true, firstOutside);
        }
        r -= lo - p;
      } else if (p > hi) {
        if (r < p - hi || dim === d - 1) {
          const cut = Math.fround(hi + r);
          return this.splitAbove(level, point, dim, cut < p ? cut : hi, false, firstOutside);
        }
        r -= p - hi;
      }
    }
    throw new Error(`Point lies inside the box of node ${node}: nothing to split`);
  }

  /**
   * Adds the point at the leaf its descent reached, at `depth` of {@link path}: one more copy, or a
   * split between the two. `firstOutside`: the path's first level whose box does not hold the point.
   */
  private insertAtLeaf(
    depth: number,
    point: Float32Array,
    random: SeededRandom,
    firstOutside: number,
  ): number {
    const leaf = this.path[depth] as number;
    const d = this.dimensions;
    const slot = leaf - this.capacity;
    const leafOffset = slot * d;
    let gap = 0;
    for (let i = 0; i < d; i++)
      gap += Math.abs((point[i] as number) - (this.leafPoints[leafOffset + i] as number));
    if (gap === 0) {
      this.leafMass[slot] = (this.leafMass[slot] as number) + 1;
      this.massTotal++;
      return leaf;
    }
    let r = random.next() * gap;
    let dim = 0;
    for (; dim < d; dim++) {
      const range = Math.abs((point[dim] as number) - (this.leafPoints[leafOffset + dim] as number));
      if (range > 0 && r < range) break;
      r -= range;
    }
    // Rounding can carry r past the last dimension with a range: fall back to it.
    if (dim === d) {
      dim = d - 1;
      while (point[dim] === this.leafPoints[leafOffset + dim]) dim--;
      r = 0;
    }
    const p = point[dim] as number;
    const q = this.leafPoints[leafOffset + dim] as number;
    const low = p < q ? p : q;
    const high = p < q ? q : p;
    const cut = Math.fround(low + r);
    const separatingCut = cut < high ? cut : low;
    return this.splitAbove(depth, point, dim, separatingCut, p <= separatingCut, firstOutside);
  }

  /**
   * Removes one copy of the point held by `leaf`. When it was the last copy the leaf and its parent
   * go, the sibling takes the parent's place, and the ancestors' boxes shrink exactly where the
   * point was on their faces (stopping at the first one that does not change: those above cannot
   * either).
   */
  delete(leaf: number): void {
    this.scoredPathValid = false;
    const slot = leaf - this.capacity;
    if (!this.isLeaf(leaf) || (this.leafMass[slot] ?? 0) < 1) {
      throw new Error(`Cannot delete node ${leaf}: not a live leaf`);
    }
    this.massTotal--;
    if ((this.leafMass[slot] as number) > 1) {
      this.leafMass[slot] = (this.leafMass[slot] as number) - 1;
      return;
    }
    const parentNode = this.parent[leaf] as number;
    this.releaseLeaf(leaf);
    if (parentNode === NO_NODE) {
      this.rootNode = NO_NODE;
      return;
    }
    const parentRecord = parentNode * CUT_RECORD_WORDS;
    const sibling = this.links[
      parentRecord + (this.links[parentRecord + LEFT] === leaf ? RIGHT : LEFT)
    ] as number;
    const grandparent = this.parent[parentNode] as number;
    this.parent[sibling] = grandparent;
    this.replaceChild(grandparent, parentNode, sibling);
    this.releaseInternal(parentNode);
    // The released slot keeps its point until an insert reuses it, which cannot happen in here.
    for (let node = grandparent; node !== NO_NODE && this.shrinkBox(node, slot);) {
      node = this.parent[node] as number;
    }
  }

  /**
   * The unnormalized collusive-displacement score AWS computes: 1/(depth+1) at an unseen leaf (a
   * damped 1/(depth + log2(mass+1)) when the point is in the tree), then, towards the root, a blend
   * with 1/(depth+1) weighted by the probability that a random cut of the node's box extended by the
   * point separates the point. Scaled by log2(treeMass + 1) so ordinary points score about 1.
   */
  score(point: Float32Array): number {
    const depth = this.descend(point);
    this.scoredPathValid = true;
    this.scoredDepth = depth;
    this.scoredInsideLevel = depth - 1;
    if (depth < 0) return 0;
    const d = this.dimensions;
    const leaf = this.path[depth] as number;
    // The leaf's point misses the cache more often than anything else here: load it before the
    // blend, which does not depend on it, so the two overlap.
    const leafFirstValue = this.leafPoints[(leaf - this.capacity) * d] as number;
    const boxes = this.boxes;
    const path = this.path;
    let score = 1 / (depth + 1);
    // An ancestor's box contains its descendants' boxes: once the point is inside one, it is
    // inside every box above and the blend stops changing.
    let level = depth - 1;
    for (; level >= 0; level--) {
      const node = path[level] as number;
      const grown = overshoot(boxes, node * 2 * d, d, point);
      if (grown === 0) break;
      this.grownAt[level] = grown;
      const separation = grown / ((this.rangeSums[node * CUT_RECORD_FLOAT64S] as number) + grown);
      score = separation / (level + 1) + (1 - separation) * score;
    }
    this.scoredInsideLevel = level;
    if (leafFirstValue === point[0] && this.leafEquals(leaf, point)) {
      // A point the tree holds: every box on its path holds it, so the blend above stopped at once.
      const treeMass = this.massTotal;
      const leafMass = this.leafMass[leaf - this.capacity] as number;
      return (
        (1 - leafMass / (2 * treeMass)) * (1 / (depth + Math.log2(leafMass + 1))) * this.massNormalizer()
      );
    }
    return score * this.massNormalizer();
  }

  /**
   * Adds this tree's per-dimension share of {@link score} to `out`: each blend step splits the
   * separation probability by the dimension whose range the point extends, so the shares sum to
   * the score.
   */
  addAttribution(point: Float32Array, out: Float64Array): void {
    this.scoredPathValid = false;
    const depth = this.descend(point);
    if (depth < 0) return;
    const d = this.dimensions;
    const leaf = this.path[depth] as number;
    const leafMass = this.leafMass[leaf - this.capacity] as number;
    const treeMass = this.massTotal;
    const normalizer = Math.log2(treeMass + 1);
    if (this.leafEquals(leaf, point)) {
      const seen = (1 - leafMass / (2 * treeMass)) * (1 / (depth + Math.log2(leafMass + 1)));
      for (let i = 0; i < d; i++) out[i] = (out[i] as number) + (seen * normalizer) / d;
      return;
    }
    const shares = new Float64Array(d);
    const leafOffset = (leaf - this.capacity) * d;
    let gap = 0;
    for (let i = 0; i < d; i++)
      gap += Math.abs((point[i] as number) - (this.leafPoints[leafOffset + i] as number));
    const unseenAtLeaf = 1 / (depth + 1);
    for (let i = 0; i < d; i++) {
      shares[i] =
        (unseenAtLeaf * Math.abs((point[i] as number) - (this.leafPoints[leafOffset + i] as number))) / gap;
    }
    const extension = new Float64Array(d);
    for (let level = depth - 1; level >= 0; level--) {
      const node = this.path[level] as number;
      const offset = node * 2 * d;
      let grown = 0;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        const lo = this.boxes[offset + i] as number;
        const hi = this.boxes[offset + d + i] as number;
        extension[i] = p < lo ? lo - p : p > hi ? p - hi : 0;
        grown += extension[i] as number;
      }
      if (grown === 0) break;
      const total = (this.rangeSums[node * CUT_RECORD_FLOAT64S] as number) + grown;
      const separation = grown / total;
      const unseen = 1 / (level + 1);
      for (let i = 0; i < d; i++) {
        shares[i] = (1 - separation) * (shares[i] as number) + ((extension[i] as number) / total) * unseen;
      }
    }
    for (let i = 0; i < d; i++) out[i] = (out[i] as number) + (shares[i] as number) * normalizer;
  }

  private massNormalizer(): number {
    if (this.massTotal !== this.normalizedMass) {
      this.normalizedMass = this.massTotal;
      this.normalizer = Math.log2(this.massTotal + 1);
    }
    return this.normalizer;
  }

  /** Fills {@link path} from the root to the leaf the point falls into; returns the leaf's depth. */
  private descend(point: Float32Array): number {
    if (this.rootNode === NO_NODE) return -1;
    let node = this.rootNode;
    let depth = 0;
    const capacity = this.capacity;
    while (node < capacity) {
      this.path[depth++] = node;
      node = this.child(node, point);
    }
    this.path[depth] = node;
    return depth;
  }

  /** The child of an internal node on the point's side of its cut. */
  private child(node: number, point: Float32Array): number {
    const record = node * CUT_RECORD_WORDS;
    return (point[this.links[record + CUT_DIMENSION] as number] as number) <=
      (this.cutValues[record + CUT_VALUE] as number)
      ? (this.links[record + LEFT] as number)
      : (this.links[record + RIGHT] as number);
  }

  /** Points `parentNode` (or the root when it is NO_NODE) at `replacement` instead of `child`. */
  private replaceChild(parentNode: number, child: number, replacement: number): void {
    if (parentNode === NO_NODE) {
      this.rootNode = replacement;
      return;
    }
    const record = parentNode * CUT_RECORD_WORDS;
    this.links[record + (this.links[record + LEFT] === child ? LEFT : RIGHT)] = replacement;
  }

  private leafEquals(leaf: number, point: Float32Array): boolean {
    const offset = (leaf - this.capacity) * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) {
      if (this.leafPoints[offset + i] !== point[i]) return false;
    }
    return true;
  }

  /**
   * Puts a new internal node with a new leaf for `point` between the node at `level` of
   * {@link path} and its parent, and extends the boxes of the ancestors from `firstOutside` on,
   * the ones that do not hold the point yet.
   */
  private splitAbove(
    level: number,
    point: Float32Array,
    dimension: number,
    cut: number,
    pointGoesLeft: boolean,
    firstOutside: number,
  ): number {
    const node = this.path[level] as number;
    const leaf = this.allocateLeaf(point);
    const internal = this.allocateInternal();
    const parentNode = this.parent[node] as number;
    const record = internal * CUT_RECORD_WORDS;
    this.links[record + CUT_DIMENSION] = dimension;
    this.links[record + LEFT] = pointGoesLeft ? leaf : node;
    this.links[record + RIGHT] = pointGoesLeft ? node : leaf;
    this.cutValues[record + CUT_VALUE] = cut;
    this.parent[internal] = parentNode;
    this.parent[node] = internal;
    this.parent[leaf] = internal;
    this.replaceChild(parentNode, node, internal);
    this.mergeChildBoxes(internal);
    const d = this.dimensions;
    const boxes = this.boxes;
    for (let ancestorLevel = firstOutside; ancestorLevel < level; ancestorLevel++) {
      const ancestor = this.path[ancestorLevel] as number;
      const offset = ancestor * 2 * d;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        if (p < (boxes[offset + i] as number)) boxes[offset + i] = p;
        else if (p > (boxes[offset + d + i] as number)) boxes[offset + d + i] = p;
      }
      this.rangeSums[ancestor * CUT_RECORD_FLOAT64S] = this.boxRangeSum(ancestor);
    }
    this.massTotal++;
    return leaf;
  }

  /** Sets an internal node's box to the union of its children's boxes; returns whether it changed. */
  private mergeChildBoxes(node: number): boolean {
    const d = this.dimensions;
    const bounds = this.bounds;
    const offset = node * 2 * d;
    const record = node * CUT_RECORD_WORDS;
    const left = this.links[record + LEFT] as number;
    const right = this.links[record + RIGHT] as number;
    const leftLow = this.lowOffset(left);
    const leftHigh = this.highOffset(left);
    const rightLow = this.lowOffset(right);
    const rightHigh = this.highOffset(right);
    let changed = false;
    for (let i = 0; i < d; i++) {
      const a = bounds[leftLow + i] as number;
      const b = bounds[rightLow + i] as number;
      const min = a < b ? a : b;
      const c = bounds[leftHigh + i] as number;
      const e = bounds[rightHigh + i] as number;
      const max = c > e ? c : e;
      if (bounds[offset + i] !== min || bounds[offset + d + i] !== max) {
        changed = true;
        bounds[offset + i] = min;
        bounds[offset + d + i] = max;
      }
    }
    if (changed) this.rangeSums[node * CUT_RECORD_FLOAT64S] = this.boxRangeSum(node);
    return changed;
  }

  /**
   * Recomputes from the children the faces of `node`'s box that the removed point in leaf `slot`
   * lay on (no other face can move); returns whether any moved.
   */
  private shrinkBox(node: number, slot: number): boolean {
    const d = this.dimensions;
    const bounds = this.bounds;
    const offset = node * 2 * d;
    const pointOffset = this.lowOffset(slot + this.capacity);
    const record = node * CUT_RECORD_WORDS;
    const left = this.links[record + LEFT] as number;
    const right = this.links[record + RIGHT] as number;
    const leftLow = this.lowOffset(left);
    const leftHigh = this.highOffset(left);
    const rightLow = this.lowOffset(right);
    const rightHigh = this.highOffset(right);
    let changed = false;
    for (let i = 0; i < d; i++) {
      const p = bounds[pointOffset + i] as number;
      if (p === bounds[offset + i]) {
        const a = bounds[leftLow + i] as number;
        const b = bounds[rightLow + i] as number;
        const min = a < b ? a : b;
        if (min !== p) {
          bounds[offset + i] = min;
          changed = true;
        }
      }
      if (p === bounds[offset + d + i]) {
        const a = bounds[leftHigh + i] as number;
        const b = bounds[rightHigh + i] as number;
        const max = a > b ? a : b;
        if (max !== p) {
          bounds[offset + d + i] = max;
          changed = true;
        }
      }
    }
    if (changed) this.rangeSums[node * CUT_RECORD_FLOAT64S] = this.boxRangeSum(node);
    return changed;
  }

  /** Where a node's minima start in {@link bounds}: a leaf's point is its minima and its maxima. */
  private lowOffset(node: number): number {
    const d = this.dimensions;
    return node < this.capacity ? node * 2 * d : (this.capacity * 2 + node - this.capacity) * d;
  }

  /** Where a node's maxima start in {@link bounds}. */
  private highOffset(node: number): number {
    return node < this.capacity ? (node * 2 + 1) * this.dimensions : this.lowOffset(node);
  }

  private boxRangeSum(node: number): number {
    const d = this.dimensions;
    const offset = node * 2 * d;
    let sum = 0;
    for (let i = 0; i < d; i++)
      sum += (this.boxes[offset + d + i] as number) - (this.boxes[offset + i] as number);
    return sum;
  }

  /** Post-order recomputation of every box under `node` (after deserialization). */
  private recomputeBoxes(node: number): void {
    if (this.isLeaf(node)) return;
    const [left, right] = this.children(node);
    this.recomputeBoxes(left);
    this.recomputeBoxes(right);
    this.mergeChildBoxes(node);
    this.rangeSums[node * CUT_RECORD_FLOAT64S] = this.boxRangeSum(node);
  }

  private allocateLeaf(point: Float32Array): number {
    if (this.freeLeafCount === 0) throw new Error('Tree is full: delete a point before inserting another');
    const slot = this.freeLeaves[--this.freeLeafCount] as number;
    this.leafPoints.set(point, slot * this.dimensions);
    this.leafMass[slot] = 1;
    return slot + this.capacity;
  }

  private releaseLeaf(leaf: number): void {
    this.leafMass[leaf - this.capacity] = 0;
    this.parent[leaf] = NO_NODE;
    this.freeLeaves[this.freeLeafCount++] = leaf - this.capacity;
  }

  private allocateInternal(): number {
    if (this.freeInternalCount === 0) throw new Error('Tree is full: no internal node left');
    const node = this.freeInternal[--this.freeInternalCount] as number;
    // A reused node's stale box must not look "unchanged" to mergeChildBoxes.
    this.boxes.fill(NaN, node * 2 * this.dimensions, (node + 1) * 2 * this.dimensions);
    return node;
  }

  private releaseInternal(node: number): void {
    this.parent[node] = NO_NODE;
    this.freeInternal[this.freeInternalCount++] = node;
  }
}

/**
 * How far `point` lies outside the box at `offset` (minima, then maxima), summed over dimensions.
 * Without branches: comparisons of a point with a box are unpredictable, and a mispredicted branch
 * costs more than the arithmetic. x + |x| is exactly 2 max(x, 0), so the sum is exactly twice the
 * branching version's and halving it is exact too.
 */
function overshoot(boxes: Float32Array, offset: number, d: number, point: Float32Array): number {
  // Below and above the box in two sums: two shorter chains of dependent additions.
  let twiceBelow = 0;
  let twiceAbove = 0;
  for (let i = 0; i < d; i++) {
    const p = point[i] as number;
    const below = (boxes[offset + i] as number) - p;
    const above = p - (boxes[offset + d + i] as number);
    twiceBelow += below + Math.abs(below);
    twiceAbove += above + Math.abs(above);
  }
  return 0.5 * (twiceBelow + twiceAbove);
}
