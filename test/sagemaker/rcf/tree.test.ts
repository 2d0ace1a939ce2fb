import { SeededRandom } from '../../../sagemaker/rcf';
import { NO_NODE, RandomCutTree } from '../../../sagemaker/rcf/tree';

/** Trees store single-precision points. */
const point = (...values: number[]): Float32Array => Float32Array.from(values);

function boxes(tree: RandomCutTree): Map<number, { min: number[]; max: number[] }> {
  const result = new Map<number, { min: number[]; max: number[] }>();
  const visit = (node: number): void => {
    if (tree.isLeaf(node)) return;
    result.set(node, tree.boundingBox(node));
    const [left, right] = tree.children(node);
    visit(left);
    visit(right);
  };
  if (tree.root !== NO_NODE) visit(tree.root);
  return result;
}

function filledTree(random: SeededRandom): { tree: RandomCutTree; leaves: number[] } {
  const tree = new RandomCutTree(3, 64);
  const leaves: number[] = [];
  for (let i = 0; i < 40; i++)
    leaves.push(tree.insert(point(random.next(), random.next() * 10, random.next() - 5), random));
  return { tree, leaves };
}

describe('RandomCutTree', () => {
  it('restores every bounding box exactly when an inserted point is deleted again', () => {
    const random = new SeededRandom(1);
    const { tree } = filledTree(random);
    const before = boxes(tree);
    // An extreme point grows the boxes on its whole path, deleting it must shrink them back.
    const leaf = tree.insert(point(7, -3, 12), random);
    expect(boxes(tree).get(tree.root)).not.toEqual(before.get(tree.root));
    tree.delete(leaf);
    expect(boxes(tree)).toEqual(before);
  });

  it('keeps each box equal to the min and max of the points below it after many deletions', () => {
    const random = new SeededRandom(2);
    const { tree, leaves } = filledTree(random);
    for (const leaf of leaves.slice(0, 25)) tree.delete(leaf);
    const pointsBelow = (node: number): number[][] => {
      if (tree.isLeaf(node)) return [tree.boundingBox(node).min];
      return tree.children(node).flatMap(pointsBelow);
    };
    for (const [node, box] of boxes(tree)) {
      const points = pointsBelow(node);
      expect(box.min).toEqual([0, 1, 2].map((d) => Math.min(...points.map((p) => p[d] ?? NaN))));
      expect(box.max).toEqual([0, 1, 2].map((d) => Math.max(...points.map((p) => p[d] ?? NaN))));
    }
    expect(tree.totalMass).toBe(15);
  });

  it('counts a repeated point as mass on one leaf and deletes copies one at a time', () => {
    const random = new SeededRandom(3);
    const tree = new RandomCutTree(2, 8);
    tree.insert(point(1, 1), random);
    const first = tree.insert(point(2, 2), random);
    const second = tree.insert(point(2, 2), random);
    expect(second).toBe(first);
    expect(tree.totalMass).toBe(3);
    tree.delete(first);
    expect(tree.totalMass).toBe(2);
    expect(tree.score(point(2, 2))).toBeGreaterThan(0);
  });

  it('inserts a point it has just scored exactly as a full insertion would', () => {
    const viaScore = new RandomCutTree(3, 65);
    const direct = new RandomCutTree(3, 65);
    const scoreRandom = new SeededRandom(6);
    const directRandom = new SeededRandom(6);
    const data = new SeededRandom(7);
    const live: number[] = [];
    for (let i = 0; i < 400; i++) {
      // Repeats and far outliers exercise the duplicate and the split-high-up paths.
      const p =
        i % 9 === 0 ? point(1, 2, 3) : point(data.next(), data.next() * (i % 50 === 0 ? 100 : 1), i % 3);
      viaScore.score(p);
      const leaf = viaScore.insertScored(p, scoreRandom);
      expect(direct.insert(p, directRandom)).toBe(leaf);
      live.push(leaf);
      if (live.length > 64) {
        const evicted = live.splice(Math.floor(data.next() * live.length), 1)[0] as number;
        viaScore.delete(evicted);
        direct.delete(evicted);
      }
    }
    expect(viaScore.toState()).toEqual(direct.toState());
    expect(boxes(viaScore)).toEqual(boxes(direct));
  });

  it('empties completely when its last point is deleted', () => {
    const random = new SeededRandom(4);
    const tree = new RandomCutTree(1, 4);
    const leaf = tree.insert(point(5), random);
    tree.delete(leaf);
    expect(tree.root).toBe(NO_NODE);
    expect(tree.score(point(5))).toBe(0);
  });

  it('refuses to delete a node that is not a live leaf', () => {
    const tree = new RandomCutTree(1, 4);
    expect(() => tree.delete(5)).toThrow('Cannot delete node 5: not a live leaf');
  });
});
