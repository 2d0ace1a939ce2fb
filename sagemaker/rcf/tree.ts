import { SeededRandom } from './random';

/** No node: an empty tree's root, the root's parent. */
export const NO_NODE = -1;

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
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly parent: Int32Array;
  private readonly cutDimension: Int32Array;
  private readonly cutValue: Float64Array;
  private readonly mass: Int32Array;
  private readonly boxMin: Float64Array;
  private readonly boxMax: Float64Array;
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
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.parent = new Int32Array(2 * capacity).fill(NO_NODE);
    this.cutDimension = new Int32Array(capacity);
    this.cutValue = new Float64Array(capacity);
    this.mass = new Int32Array(2 * capacity);
    this.boxMin = new Float64Array(capacity * dimensions);
    this.boxMax = new Float64Array(capacity * dimensions);
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
    tree.left.set(state.left);
    tree.right.set(state.right);
    tree.parent.set(state.parent);
    tree.cutDimension.set(state.cutDimension);
    tree.cutValue.set(state.cutValue);
    tree.mass.set(state.mass);
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
    return {
      root: this.rootNode,
      left: this.left.slice(),
      right: this.right.slice(),
      parent: this.parent.slice(),
      cutDimension: this.cutDimension.slice(),
      cutValue: this.cutValue.slice(),
      mass: this.mass.slice(),
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
    return this.rootNode === NO_NODE ? 0 : (this.mass[this.rootNode] ?? 0);
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
    const offset = node * this.dimensions;
    return {
      min: Array.from(this.boxMin.subarray(offset, offset + this.dimensions)),
      max: Array.from(this.boxMax.subarray(offset, offset + this.dimensions)),
    };
  }

  /** Children of an internal node, for traversal in tests. */
  children(node: number): [number, number] {
    return [this.left[node] ?? NO_NODE, this.right[node] ?? NO_NODE];
  }

  /**
   * Inserts a point, choosing cuts proportional to the bounding-box ranges, and returns the leaf
   * that now holds it (an existing leaf when the same point is already in the tree).
   */
  insert(point: ArrayLike<number>, random: SeededRandom): number {
    const d = this.dimensions;
    if (this.rootNode === NO_NODE) {
      const leaf = this.allocateLeaf(point);
      this.parent[leaf] = NO_NODE;
      this.rootNode = leaf;
      return leaf;
    }
    let node = this.rootNode;
    for (;;) {
      if (this.isLeaf(node)) {
        const leafOffset = (node - this.capacity) * d;
        let rangeSum = 0;
        for (let i = 0; i < d; i++) {
          rangeSum += Math.abs((point[i] as number) - (this.leafPoint[leafOffset + i] as number));
        }
        if (rangeSum === 0) {
          this.addMassUpwards(node);
          return node;
        }
        let r = random.next() * rangeSum;
        let dim = 0;
        for (; dim < d - 1; dim++) {
          const range = Math.abs((point[dim] as number) - (this.leafPoint[leafOffset + dim] as number));
          if (r < range) break;
          r -= range;
        }
        // Skip dimensions with no range, which r can only land on through rounding.
        while (point[dim] === this.leafPoint[leafOffset + dim]) dim = (dim + d - 1) % d;
        const p = point[dim] as number;
        const q = this.leafPoint[leafOffset + dim] as number;
        const low = Math.min(p, q);
        const high = Math.max(p, q);
        let cut = low + r;
        if (!(cut >= low && cut < high)) cut = low;
        return this.splitAbove(node, point, dim, cut, p <= cut);
      }
      const offset = node * d;
      let rangeSum = 0;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        const lo = this.boxMin[offset + i] as number;
        const hi = this.boxMax[offset + i] as number;
        rangeSum += (hi > p ? hi : p) - (lo < p ? lo : p);
      }
      let r = random.next() * rangeSum;
      let dim = 0;
      let lo = 0;
      let hi = 0;
      let low = 0;
      let high = 0;
      for (; dim < d; dim++) {
        const p = point[dim] as number;
        lo = this.boxMin[offset + dim] as number;
        hi = this.boxMax[offset + dim] as number;
        low = lo < p ? lo : p;
        high = hi > p ? hi : p;
        const range = high - low;
        if (r < range || dim === d - 1) break;
        r -= range;
      }
      const p = point[dim] as number;
      let cut = low + r;
      if (cut >= high) cut = low;
      if (p < lo && cut < lo) {
        return this.splitAbove(node, point, dim, cut, true);
      }
      if (p > hi && cut >= hi) {
        return this.splitAbove(node, point, dim, cut < p ? cut : hi, false);
      }
      node =
        p <= (this.cutValue[node] as number) ? (this.left[node] as number) : (this.right[node] as number);
    }
  }

  /**
   * Removes one copy of the point held by `leaf`. When it was the last copy the leaf and its parent
   * go, the sibling takes the parent's place, and every ancestor's box is recomputed exactly.
   */
  delete(leaf: number): void {
    if (!this.isLeaf(leaf) || (this.mass[leaf] ?? 0) < 1) {
      throw new Error(`Cannot delete node ${leaf}: not a live leaf`);
    }
    if ((this.mass[leaf] as number) > 1) {
      for (let node = leaf; node !== NO_NODE; node = this.parent[node] as number) {
        this.mass[node] = (this.mass[node] as number) - 1;
      }
      return;
    }
    const parentNode = this.parent[leaf] as number;
    this.releaseLeaf(leaf);
    if (parentNode === NO_NODE) {
      this.rootNode = NO_NODE;
      return;
    }
    const sibling =
      this.left[parentNode] === leaf ? (this.right[parentNode] as number) : (this.left[parentNode] as number);
    const grandparent = this.parent[parentNode] as number;
    this.parent[sibling] = grandparent;
    if (grandparent === NO_NODE) {
      this.rootNode = sibling;
    } else if (this.left[grandparent] === parentNode) {
      this.left[grandparent] = sibling;
    } else {
      this.right[grandparent] = sibling;
    }
    this.releaseInternal(parentNode);
    for (let node = grandparent; node !== NO_NODE; node = this.parent[node] as number) {
      this.mass[node] = (this.mass[node] as number) - 1;
      this.mergeChildBoxes(node);
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
    const leafMass = this.mass[leaf] as number;
    const treeMass = this.totalMass;
    const normalizer = Math.log2(treeMass + 1);
    if (this.leafEquals(leaf, point)) {
      return (1 - leafMass / (2 * treeMass)) * (1 / (depth + Math.log2(leafMass + 1))) * normalizer;
    }
    const d = this.dimensions;
    let score = 1 / (depth + 1);
    for (let level = depth - 1; level >= 0; level--) {
      const node = this.path[level] as number;
      const offset = node * d;
      let grown = 0;
      let total = 0;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        const lo = this.boxMin[offset + i] as number;
        const hi = this.boxMax[offset + i] as number;
        const low = lo < p ? lo : p;
        const high = hi > p ? hi : p;
        total += high - low;
        grown += lo - low + (high - hi);
      }
      if (grown <= 0) break;
      const separation = grown / total;
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
    const leafMass = this.mass[leaf] as number;
    const treeMass = this.totalMass;
    const normalizer = Math.log2(treeMass + 1);
    const shares = new Float64Array(d);
    if (this.leafEquals(leaf, point)) {
      const seen = (1 - leafMass / (2 * treeMass)) * (1 / (depth + Math.log2(leafMass + 1)));
      for (let i = 0; i < d; i++) out[i] = (out[i] as number) + (seen * normalizer) / d;
      return;
    }
    const leafOffset = (leaf - this.capacity) * d;
    let gap = 0;
    for (let i = 0; i < d; i++)
      gap += Math.abs((point[i] as number) - (this.leafPoint[leafOffset + i] as number));
    const unseenAtLeaf = 1 / (depth + 1);
    for (let i = 0; i < d; i++) {
      shares[i] =
        (unseenAtLeaf * Math.abs((point[i] as number) - (this.leafPoint[leafOffset + i] as number))) / gap;
    }
    for (let level = depth - 1; level >= 0; level--) {
      const offset = (this.path[level] as number) * d;
      let grown = 0;
      let total = 0;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        const lo = this.boxMin[offset + i] as number;
        const hi = this.boxMax[offset + i] as number;
        total += (hi > p ? hi : p) - (lo < p ? lo : p);
        grown += (lo > p ? lo - p : 0) + (p > hi ? p - hi : 0);
      }
      if (grown <= 0) break;
      const separation = grown / total;
      const unseen = 1 / (level + 1);
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        const lo = this.boxMin[offset + i] as number;
        const hi = this.boxMax[offset + i] as number;
        const extension = (lo > p ? lo - p : 0) + (p > hi ? p - hi : 0);
        shares[i] = (1 - separation) * (shares[i] as number) + (extension / total) * unseen;
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
      node =
        (point[this.cutDimension[node] as number] as number) <= (this.cutValue[node] as number)
          ? (this.left[node] as number)
          : (this.right[node] as number);
    }
    this.path[depth] = node;
    return depth;
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
    this.cutDimension[internal] = dimension;
    this.cutValue[internal] = cut;
    this.left[internal] = pointGoesLeft ? leaf : node;
    this.right[internal] = pointGoesLeft ? node : leaf;
    this.parent[internal] = parentNode;
    this.parent[node] = internal;
    this.parent[leaf] = internal;
    this.mass[internal] = (this.mass[node] as number) + 1;
    if (parentNode === NO_NODE) {
      this.rootNode = internal;
    } else if (this.left[parentNode] === node) {
      this.left[parentNode] = internal;
    } else {
      this.right[parentNode] = internal;
    }
    this.mergeChildBoxes(internal);
    const d = this.dimensions;
    for (let ancestor = parentNode; ancestor !== NO_NODE; ancestor = this.parent[ancestor] as number) {
      this.mass[ancestor] = (this.mass[ancestor] as number) + 1;
      const offset = ancestor * d;
      for (let i = 0; i < d; i++) {
        const p = point[i] as number;
        if (p < (this.boxMin[offset + i] as number)) this.boxMin[offset + i] = p;
        if (p > (this.boxMax[offset + i] as number)) this.boxMax[offset + i] = p;
      }
    }
    return leaf;
  }

  private addMassUpwards(leaf: number): void {
    for (let node = leaf; node !== NO_NODE; node = this.parent[node] as number) {
      this.mass[node] = (this.mass[node] as number) + 1;
    }
  }

  /** Sets an internal node's box to the union of its children's boxes. */
  private mergeChildBoxes(node: number): void {
    const d = this.dimensions;
    const offset = node * d;
    const leftChild = this.left[node] as number;
    const rightChild = this.right[node] as number;
    const leftMin = this.isLeaf(leftChild) ? this.leafPoint : this.boxMin;
    const leftMax = this.isLeaf(leftChild) ? this.leafPoint : this.boxMax;
    const leftOffset = (this.isLeaf(leftChild) ? leftChild - this.capacity : leftChild) * d;
    const rightMin = this.isLeaf(rightChild) ? this.leafPoint : this.boxMin;
    const rightMax = this.isLeaf(rightChild) ? this.leafPoint : this.boxMax;
    const rightOffset = (this.isLeaf(rightChild) ? rightChild - this.capacity : rightChild) * d;
    for (let i = 0; i < d; i++) {
      const a = leftMin[leftOffset + i] as number;
      const b = rightMin[rightOffset + i] as number;
      this.boxMin[offset + i] = a < b ? a : b;
      const c = leftMax[leftOffset + i] as number;
      const e = rightMax[rightOffset + i] as number;
      this.boxMax[offset + i] = c > e ? c : e;
    }
  }

  /** Post-order recomputation of every box under `node` (after deserialization). */
  private recomputeBoxes(node: number): void {
    if (this.isLeaf(node)) return;
    this.recomputeBoxes(this.left[node] as number);
    this.recomputeBoxes(this.right[node] as number);
    this.mergeChildBoxes(node);
  }

  private allocateLeaf(point: ArrayLike<number>): number {
    if (this.freeLeafCount === 0) throw new Error('Tree is full: delete a point before inserting another');
    const slot = this.freeLeaves[--this.freeLeafCount] as number;
    const offset = slot * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) this.leafPoint[offset + i] = point[i] as number;
    const leaf = slot + this.capacity;
    this.mass[leaf] = 1;
    return leaf;
  }

  private releaseLeaf(leaf: number): void {
    this.mass[leaf] = 0;
    this.parent[leaf] = NO_NODE;
    this.freeLeaves[this.freeLeafCount++] = leaf - this.capacity;
  }

  private allocateInternal(): number {
    if (this.freeInternalCount === 0) throw new Error('Tree is full: no internal node left');
    return this.freeInternal[--this.freeInternalCount] as number;
  }

  private releaseInternal(node: number): void {
    this.mass[node] = 0;
    this.parent[node] = NO_NODE;
    this.freeInternal[this.freeInternalCount++] = node;
  }
}
