import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ancestorsOf, describeCycle, descendantsOf, findCycles, type GraphNode, resolveNeeds, topologicalLayers } from './job-graph.ts';

/** A random DAG: nodes in a random order, each needing some of the nodes of an earlier rank. */
const dag = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc.tuple(
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: n, maxLength: n },
      ),
      fc.array(fc.array(fc.nat({ max: n }), { maxLength: 4 }), { minLength: n, maxLength: n }),
    ),
  )
  .map(([ranks, picks]) =>
    ranks.map((rank, i): GraphNode => ({
      id: `s${rank}`,
      // Only lower ranks: no cycle can form.
      needs: [...new Set(picks[i]!.filter((p) => p < rank).map((p) => `s${p}`))],
    })),
  );

function edgesOf(nodes: readonly GraphNode[]): [string, string][] {
  return nodes.flatMap((n) => n.needs.map((need): [string, string] => [n.id, need]));
}

describe('needs', () => {
  it('makes a plain list a chain, and keeps what a step says', () => {
    expect(resolveNeeds([{ id: 'a' }, { id: 'b' }, { id: 'c', needs: [] }, { id: 'd', needs: ['a', 'b'] }, { id: 'e' }]).map((s) => [s.id, s.needs])).toEqual([
      ['a', []],
      ['b', ['a']],
      ['c', []],
      ['d', ['a', 'b']],
      ['e', ['d']],
    ]);
  });
});

describe('cycle detection', () => {
  it('names the cycle, step by step', () => {
    const nodes = [
      { id: 'drain', needs: ['migrate'] },
      { id: 'check', needs: ['drain'] },
      { id: 'migrate', needs: ['check'] },
      { id: 'notify', needs: ['migrate'] },
      { id: 'self', needs: ['self'] },
    ];
    const cycles = findCycles(nodes);
    expect(cycles).toEqual([['drain', 'migrate', 'check'], ['self']]);
    expect(describeCycle(cycles[0]!)).toBe('drain needs migrate, migrate needs check, check needs drain');
  });

  it('finds none in any DAG', () => {
    fc.assert(
      fc.property(dag, (nodes) => {
        expect(findCycles(nodes)).toEqual([]);
      }),
    );
  });

  it('finds a real cycle whenever a back edge closes one', () => {
    const withBackEdge = dag
      .filter((nodes) => nodes.some((n) => n.needs.length > 0))
      .chain((nodes) => fc.constantFrom(...nodes.filter((n) => n.needs.length > 0)).map((from) => ({ nodes, from })))
      .map(({ nodes, from }) => {
        // from needs x: make x (or something x needs) need from again.
        const target = from.needs[0]!;
        return nodes.map((n) => (n.id === target ? { ...n, needs: [...n.needs, from.id] } : n));
      });
    fc.assert(
      fc.property(withBackEdge, (nodes) => {
        const cycles = findCycles(nodes);
        expect(cycles.length).toBeGreaterThan(0);
        const edges = new Set(edgesOf(nodes).map(([a, b]) => `${a}>${b}`));
        for (const cycle of cycles) {
          // Every consecutive pair, and the last back to the first, is an edge: the named cycle exists.
          cycle.forEach((id, i) => expect(edges.has(`${id}>${cycle[(i + 1) % cycle.length]}`)).toBe(true));
          expect(new Set(cycle).size).toBe(cycle.length);
        }
      }),
    );
  });

  it('copes with a long chain without running out of stack', () => {
    const chain = Array.from({ length: 20_000 }, (_, i): GraphNode => ({ id: `s${i}`, needs: i === 0 ? ['s19999'] : [`s${i - 1}`] }));
    expect(findCycles(chain)[0]).toHaveLength(20_000);
  });
});

describe('topological order', () => {
  it('puts each step after everything it needs, in the first layer it can run in', () => {
    fc.assert(
      fc.property(dag, (nodes) => {
        const layers = topologicalLayers(nodes);
        const layerOf = new Map(layers.flatMap((layer, i) => layer.map((id): [string, number] => [id, i])));
        expect([...layerOf.keys()].sort()).toEqual(nodes.map((n) => n.id).sort());
        for (const [from, to] of edgesOf(nodes)) expect(layerOf.get(from)!).toBeGreaterThan(layerOf.get(to)!);
        // As early as possible: a step not in layer 0 needs something in the layer just before.
        for (const n of nodes) {
          const layer = layerOf.get(n.id)!;
          if (layer > 0) expect(n.needs.some((need) => layerOf.get(need) === layer - 1)).toBe(true);
          else expect(n.needs).toEqual([]);
        }
      }),
    );
  });

  it('keeps list order inside a layer and refuses a cycle', () => {
    expect(topologicalLayers([{ id: 'b', needs: [] }, { id: 'a', needs: [] }, { id: 'c', needs: ['a', 'b'] }])).toEqual([['b', 'a'], ['c']]);
    expect(() => topologicalLayers([{ id: 'a', needs: ['b'] }, { id: 'b', needs: ['a'] }])).toThrow('the steps form a cycle: a needs b, b needs a');
  });

  it('agrees with ancestors and descendants', () => {
    fc.assert(
      fc.property(dag, (nodes) => {
        const ancestors = ancestorsOf(nodes);
        for (const n of nodes) {
          for (const d of descendantsOf(nodes, n.id)) expect(ancestors.get(d)!.has(n.id)).toBe(true);
        }
      }),
    );
  });
});
