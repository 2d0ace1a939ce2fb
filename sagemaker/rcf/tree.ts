import { SeededRandom } from './random';

/** No node: an empty tree's root, the root's parent. */
export const NO_NODE = -1;

// An internal node's 24-byte cut record, seen as 3 float64 or 6 int32: the cut value (float 0),
// left, right and cut dimension (int 2, 3, 4). Ids stay int32 for the JIT.
const CUT_STRIDE = 3;
const LINK_STRIDE = 6;
const LEFT = 2;
const RIGHT = 3;
const CUT_DIMENSION = 4;
// Field offsets within an internal node's box record.
const RANGE_SUM = 0;
const BOX = 1;

/** The arrays that fully describe a tree; bounding boxes are derived from them. */
export interface TreeState {
  readonly root: number;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly parent: Int32Array;
  readonly cutDimension: Int32Array;
  readonly cutValue: Float64Array;
  readonly mass: Int32Array;
  readonly leafPoint: Float64Array;
  readonly freeInternal: Int32Array;
  readonly freeInternalCount: number;
  readonly freeLeaves: Int32Array;
  readonly freeLeafCount: number;
}

/**
 * A robust random cut tree (Guha et al., ICML 2016) over at most `capacity` distinct points, stored
 * in flat typed arrays so scoring and updating allocate nothing.
 *
 * Node ids: internal nodes are `0 .. capacity - 2`; leaves are `capacity + slot` for a leaf slot in
 * `0 .. capacity - 1`. A leaf holds one distinct point with a mass (how many sampled copies of it the
 * tree holds). Every internal node keeps the exact bounding box of the points below it: insertion
 * extends boxes, deletion recomputes them from the children, so a box is always the true min/max.
 */
export class RandomCutTree {
  readonly dimensions: number;
  readonly capacity: number;
  private rootNode = NO_NODE;
  /**
   * Scoring is bound by memory latency, so each internal node has two compact records: a cut
   * record (cut value, children, cut dimension: one cache line per step of a descent), viewed as
   * `cuts` and `links`; and a box record in `nodes`, `stride` numbers: the sum of the box's ranges
   * (so separation needs only the overshoot), then its `dimensions` minima and maxima.
   */
  private readonly nodes: Float64Array;
  private readonly cuts: Float64Array;
  private readonly links: Int32Array;
  private readonly stride: number;
  private readonly parent: Int32Array;
  /**
   * Copies of each leaf's point, by leaf slot. Internal nodes keep no mass: scoring needs only the
   * leaf's and the tree's, and skipping it spares every update a walk to the root.
   */
  private readonly leafMass: Int32Array;
  private massTotal = 0;
  private readonly leafPoint: Float64Array;
  private readonly freeInternal: Int32Array;
  private freeInternalCount: number;
  private readonly freeLeaves: Int32Array;
  private freeLeafCount: number;
  /** Scratch: the path from the root to a leaf while scoring. */
  private readonly path: Int32Array;

  constructor(dimensions: number, capacity: number) {
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new Error(`Tree dimensions must be a positive integer, got ${dimensions}`);
    }
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new Error(`Tree capacity must be an integer of at least 2, got ${capacity}`);
    }
    this.dimensions = dimensions;
    this.capacity = capacity;
    this.stride = BOX + 2 * dimensions;
    this.nodes = new Float64Array(capacity * this.stride);
    const cutRecords = new ArrayBuffer(capacity * CUT_STRIDE * Float64Array.BYTES_PER_ELEMENT);
    this.cuts = new Float64Array(cutRecords);
    this.links = new Int32Array(cutRecords);
    this.parent = new Int32Array(2 * capacity).fill(NO_NODE);
    this.leafMass = new Int32Array(capacity);
    this.leafPoint = new Float64Array(capacity * dimensions);
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
    expect('mass', state.mass.length, 2 * capacity);
    expect('leafPoint', state.leafPoint.length, capacity * dimensions);
    expect('freeInternal', state.freeInternal.length, capacity);
    expect('freeLeaves', state.freeLeaves.length, capacity);
    tree.rootNode = state.root;
    for (let node = 0; node < capacity; node++) {
      tree.cuts[node * CUT_STRIDE] = state.cutValue[node] as number;
      const link = node * LINK_STRIDE;
      tree.links[link + CUT_DIMENSION] = state.cutDimension[node] as number;
      tree.links[link + LEFT] = state.left[node] as number;
      tree.links[link + RIGHT] = state.right[node] as number;
    }
    tree.parent.set(state.parent);
    tree.leafMass.set(state.mass.subarray(capacity));
    tree.massTotal = tree.leafMass.reduce((sum, mass) => sum + mass, 0);
    tree.leafPoint.set(state.leafPoint);
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
    const link = (offset: number): Int32Array => {
      const array = new Int32Array(this.capacity);
      for (let node = 0; node < this.capacity; node++)
        array[node] = this.links[node * LINK_STRIDE + offset] as number;
      return array;
    };
    const cutValue = new Float64Array(this.capacity);
    for (let node = 0; node < this.capacity; node++) cutValue[node] = this.cuts[node * CUT_STRIDE] as number;
    return {
      root: this.rootNode,
      left: link(LEFT),
      right: link(RIGHT),
      parent: this.parent.slice(),
      cutDimension: link(CUT_DIMENSION),
      cutValue,
      mass: this.subtreeMasses(),
      leafPoint: this.leafPoint.slice(),
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

  /** Copy of an internal node's bounding box (for tests and explanations). */
  boundingBox(node: number): { min: number[]; max: number[] } {
    if (this.isLeaf(node)) {
      const point = Array.from(
        this.leafPoint.subarray(
          (node - this.capacity) * this.dimensions,
          (node - this.capacity + 1) * this.dimensions,
        ),
      );
      return { min: point, max: [...point] };
    }
    const offset = node * this.stride + BOX;
    return {
      min: Array.from(this.nodes.subarray(offset, offset + this.dimensions)),
      max: Array.from(this.nodes.subarray(offset + this.dimensions, offset + 2 * this.dimensions)),
    };
  }

  /** Children of an internal node, for traversal in tests. */
  children(node: number): [number, number] {
    const offset = node * LINK_STRIDE;
    return [this.links[offset + LEFT] ?? NO_NODE, this.links[offset + RIGHT] ?? NO_NODE];
  }

  /**
   * Inserts a point, choosing cuts proportional to the bounding-box ranges, and returns the leaf
   * that now holds it (an existing leaf when the same point is already in the tree).
   *
   * At each node a cut is drawn uniformly over the ranges of the node's box extended by the point;
   * it separates the point exactly when it lands in the extension. Drawing "separate or not" with
   * probability extension / extended range, then the position within the extension, has the same
   * distribution and skips the draw where the box already contains the point.
   */
  insert(point: ArrayLike<number>, random: SeededRandom): number {
    const d = this.dimensions;
    const stride = this.stride;
    if (this.rootNode === NO_NODE) {
      const leaf = this.allocateLeaf(point);
      this.parent[leaf] = NO_NODE;
      this.rootNode = leaf;
      this.massTotal++;
      return leaf;
    }
    const nodes = this.nodes;
    let node = this.rootNode;
    while (node < this.capacity) {
      const record = node * stride;
      const offset = record + BOX;
      const grown = overshoot(nodes, offset, d, point);
      if (grown > 0) {
        let r = random.next() * ((nodes[record + RANGE_SUM] as number) + grown);
        if (r < grown) {
          for (let dim = 0; dim < d; dim++) {
            const p = point[dim] as number;
            const lo = nodes[offset + dim] as number;
            const hi = nodes[offset + d + dim] as number;
            if (p < lo) {
              if (r < lo - p || dim === d - 1) {
                const cut = p + r;
                return this.splitAbove(node, point, dim, cut < lo ? cut : p, true);
              }
              r -= lo - p;
            } else if (p > hi) {
              if (r < p - hi || dim === d - 1) {
                const cut = hi + r;
                return this.splitAbove(node, point, dim, cut < p ? cut : hi, false);
              }
              r -= p - hi;
            }
          }
        }
      }
      node = this.child(node, point);
    }
    const leafOffset = (node - this.capacity) * d;
    let gap = 0;
    for (let i = 0; i < d; i++)
      gap += Math.abs((point[i] as number) - (this.leafPoint[leafOffset + i] as number));
    if (gap === 0) {
      this.leafMass[node - this.capacity] = (this.leafMass[node - this.capacity] as number) + 1;
      this.massTotal++;
      return node;
    }
    let r = random.next() * gap;
    let dim = 0;
    for (; dim < d; dim++) {
      const range = Math.abs((point[dim] as number) - (this.leafPoint[leafOffset + dim] as number));
      if (range > 0 && r < range) break;
      r -= range;
    }
    // Rounding can carry r past the last dimension with a range: fall back to it.
    if (dim === d) {
      dim = d - 1;
      while (point[dim] === this.leafPoint[leafOffset + dim]) dim--;
      r = 0;
    }
    const p = point[dim] as number;
    const q = this.leafPoint[leafOffset + dim] as number;
    const low = p < q ? p : q;
    const high = p < q ? q : p;
    const cut = low + r < high ? low + r : low;
    return this.splitAbove(node, point, dim, cut, p <= cut);
  }

  /**
   * Removes one copy of the point held by `leaf`. When it was the last copy the leaf and its parent
   * go, the sibling takes the parent's place, and the ancestors' boxes are recomputed exactly from
   * their children (stopping at the first one that does not change: those above cannot either).
   */
  delete(leaf: number): void {
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
    const parentLink = parentNode * LINK_STRIDE;
    const sibling = this.links[
      parentLink + (this.links[parentLink + LEFT] === leaf ? RIGHT : LEFT)
    ] as number;
    const grandparent = this.parent[parentNode] as number;
    this.parent[sibling] = grandparent;
    this.replaceChild(grandparent, parentNode, sibling);
    this.releaseInternal(parentNode);
    for (let node = grandparent; node !== NO_NODE && this.mergeChildBoxes(node);) {
      node = this.parent[node] as number;
    }
  }

  /**
   * The unnormalized collusive-displacement score AWS computes: 1/(depth+1) at an unseen leaf (a
   * damped 1/(depth + log2(mass+1)) when the point is in the tree), then, towards the root, a blend
   * with 1/(depth+1) weighted by the probability that a random cut of the node's box extended by the
   * point separates the point. Scaled by log2(treeMass + 1) so ordinary points score about 1.
   */
  score(point: ArrayLike<number>): number {
    const depth = this.descend(point);
    if (depth < 0) return 0;
    const leaf = this.path[depth] as number;
    const leafMass = this.leafMass[leaf - this.capacity] as number;
    const treeMass = this.massTotal;
    const normalizer = Math.log2(treeMass + 1);
    if (this.leafEquals(leaf, point)) {
      return (1 - leafMass / (2 * treeMass)) * (1 / (depth + Math.log2(leafMass + 1))) * normalizer;
    }
    const d = this.dimensions;
    const nodes = this.nodes;
    const path = this.path;
    const stride = this.stride;
    let score = 1 / (depth + 1);
    for (let level = depth - 1; level >= 0; level--) {
      const record = (path[level] as number) * stride;
      const grown = overshoot(nodes, record + BOX, d, point);
      if (grown === 0) break;
      const separation = grown / ((nodes[record + RANGE_SUM] as number) + grown);
      score = separation / (level + 1) + (1 - separation) * score;
    }
    return score * normalizer;
  }

  /**
   * Adds this tree's per-dimension share of {@link score} to `out`: each blend step splits the
   * separation probability by the dimension whose range the point extends, so the shares sum to
   * the score.
   */
  addAttribution(point: ArrayLike<number>, out: Float64Array): void {
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
      gap += Math.abs((point[i] as number) - (this.leafPoint[leafOffset + i] as number));
    const unseenAtLeaf = 1 / (depth + 1);
    for (let i = 0; i < d; i++) {
      shares[i] =
        (unseenAtLeaf * Math.abs((point[i] as number) - (this.leafPoint[leafOffset + i] as number))) / gap;
    }
    const extension = new Float64Array(d);
    for (let level = depth - 1; level >= 0; level--) {
      const record = (this.path[level] as number) * this.stride;
      const offset = record + BOX;
      let grown = 0;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        const lo = this.nodes[offset + i] as number;
        const hi = this.nodes[offset + d + i] as number;
        extension[i] = p < lo ? lo - p : p > hi ? p - hi : 0;
        grown += extension[i] as number;
      }
      if (grown === 0) break;
      const total = (this.nodes[record + RANGE_SUM] as number) + grown;
      const separation = grown / total;
      const unseen = 1 / (level + 1);
      for (let i = 0; i < d; i++) {
        shares[i] = (1 - separation) * (shares[i] as number) + ((extension[i] as number) / total) * unseen;
      }
    }
    for (let i = 0; i < d; i++) out[i] = (out[i] as number) + (shares[i] as number) * normalizer;
  }

  /** Fills {@link path} from the root to the leaf the point falls into; returns the leaf's depth. */
  private descend(point: ArrayLike<number>): number {
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
  private child(node: number, point: ArrayLike<number>): number {
    const link = node * LINK_STRIDE;
    return (point[this.links[link + CUT_DIMENSION] as number] as number) <=
      (this.cuts[node * CUT_STRIDE] as number)
      ? (this.links[link + LEFT] as number)
      : (this.links[link + RIGHT] as number);
  }

  /** Points `parentNode` (or the root when it is NO_NODE) at `replacement` instead of `child`. */
  private replaceChild(parentNode: number, child: number, replacement: number): void {
    if (parentNode === NO_NODE) {
      this.rootNode = replacement;
      return;
    }
    const link = parentNode * LINK_STRIDE;
    this.links[link + (this.links[link + LEFT] === child ? LEFT : RIGHT)] = replacement;
  }

  private leafEquals(leaf: number, point: ArrayLike<number>): boolean {
    const offset = (leaf - this.capacity) * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) {
      if (this.leafPoint[offset + i] !== point[i]) return false;
    }
    return true;
  }

  /** Puts a new internal node with a new leaf for `point` between `node` and its parent. */
  private splitAbove(
    node: number,
    point: ArrayLike<number>,
    dimension: number,
    cut: number,
    pointGoesLeft: boolean,
  ): number {
    const leaf = this.allocateLeaf(point);
    const internal = this.allocateInternal();
    const parentNode = this.parent[node] as number;
    const nodes = this.nodes;
    const link = internal * LINK_STRIDE;
    this.links[link + CUT_DIMENSION] = dimension;
    this.links[link + LEFT] = pointGoesLeft ? leaf : node;
    this.links[link + RIGHT] = pointGoesLeft ? node : leaf;
    this.cuts[internal * CUT_STRIDE] = cut;
    this.parent[internal] = parentNode;
    this.parent[node] = internal;
    this.parent[leaf] = internal;
    this.replaceChild(parentNode, node, internal);
    this.mergeChildBoxes(internal);
    const d = this.dimensions;
    // Once an ancestor's box holds the point, every box above it does too.
    for (let ancestor = parentNode; ancestor !== NO_NODE; ancestor = this.parent[ancestor] as number) {
      const ancestorRecord = ancestor * this.stride;
      const offset = ancestorRecord + BOX;
      if (overshoot(nodes, offset, d, point) === 0) break;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        if (p < (nodes[offset + i] as number)) nodes[offset + i] = p;
        else if (p > (nodes[offset + d + i] as number)) nodes[offset + d + i] = p;
      }
      nodes[ancestorRecord + RANGE_SUM] = this.boxRangeSum(ancestorRecord);
    }
    this.massTotal++;
    return leaf;
  }

  /** Sets an internal node's box to the union of its children's boxes; returns whether it changed. */
  private mergeChildBoxes(node: number): boolean {
    const d = this.dimensions;
    const nodes = this.nodes;
    const record = node * this.stride;
    const offset = record + BOX;
    const leftChild = this.links[node * LINK_STRIDE + LEFT] as number;
    const rightChild = this.links[node * LINK_STRIDE + RIGHT] as number;
    const leftIsLeaf = this.isLeaf(leftChild);
    const rightIsLeaf = this.isLeaf(rightChild);
    const leftSource = leftIsLeaf ? this.leafPoint : nodes;
    const rightSource = rightIsLeaf ? this.leafPoint : nodes;
    const leftMin = leftIsLeaf ? (leftChild - this.capacity) * d : leftChild * this.stride + BOX;
    const leftMax = leftIsLeaf ? leftMin : leftMin + d;
    const rightMin = rightIsLeaf ? (rightChild - this.capacity) * d : rightChild * this.stride + BOX;
    const rightMax = rightIsLeaf ? rightMin : rightMin + d;
    let changed = false;
    for (let i = 0; i < d; i++) {
      const a = leftSource[leftMin + i] as number;
      const b = rightSource[rightMin + i] as number;
      const min = a < b ? a : b;
      const c = leftSource[leftMax + i] as number;
      const e = rightSource[rightMax + i] as number;
      const max = c > e ? c : e;
      if (nodes[offset + i] !== min || nodes[offset + d + i] !== max) {
        changed = true;
        nodes[offset + i] = min;
        nodes[offset + d + i] = max;
      }
    }
    if (changed) nodes[record + RANGE_SUM] = this.boxRangeSum(record);
    return changed;
  }

  private boxRangeSum(record: number): number {
    const d = this.dimensions;
    const offset = record + BOX;
    let sum = 0;
    for (let i = 0; i < d; i++)
      sum += (this.nodes[offset + d + i] as number) - (this.nodes[offset + i] as number);
    return sum;
  }

  /** Masses by node id, internal nodes' summed from their leaves, for the serialized layout. */
  private subtreeMasses(): Int32Array {
    const masses = new Int32Array(2 * this.capacity);
    masses.set(this.leafMass, this.capacity);
    const sum = (node: number): number => {
      if (this.isLeaf(node)) return masses[node] as number;
      const [left, right] = this.children(node);
      return (masses[node] = sum(left) + sum(right));
    };
    if (this.rootNode !== NO_NODE) sum(this.rootNode);
    return masses;
  }

  /** Post-order recomputation of every box under `node` (after deserialization). */
  private recomputeBoxes(node: number): void {
    if (this.isLeaf(node)) return;
    this.recomputeBoxes(this.links[node * LINK_STRIDE + LEFT] as number);
    this.recomputeBoxes(this.links[node * LINK_STRIDE + RIGHT] as number);
    this.mergeChildBoxes(node);
    const record = node * this.stride;
    this.nodes[record + RANGE_SUM] = this.boxRangeSum(record);
  }

  private allocateLeaf(point: ArrayLike<number>): number {
    if (this.freeLeafCount === 0) throw new Error('Tree is full: delete a point before inserting another');
    const slot = this.freeLeaves[--this.freeLeafCount] as number;
    const offset = slot * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) this.leafPoint[offset + i] = point[i] as number;
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
    this.nodes.fill(NaN, node * this.stride + BOX, (node + 1) * this.stride);
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
 * branching version's and halving it is exact too: scores do not change by a single bit.
 */
function overshoot(nodes: Float64Array, offset: number, d: number, point: ArrayLike<number>): number {
  let twice = 0;
  for (let i = 0; i < d; i++) {
    const p = point[i] as number;
    const below = (nodes[offset + i] as number) - p;
    const above = p - (nodes[offset + d + i] as number);
    twice += below + Math.abs(below) + (above + Math.abs(above));
  }
  return 0.5 * twice;
}
