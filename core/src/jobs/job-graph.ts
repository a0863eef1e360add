// Workflow-safe: pure. The steps of a job as a directed graph: `a needs b` is an edge from a to b, and b runs first.

export interface GraphNode {
  id: string;
  needs: readonly string[];
}

/**
 * The `needs` of every step, the list's shorthand applied: a step without `needs` needs the step above it (the
 * first needs nothing), so a plain list is a chain; `needs: []` starts a step at the beginning.
 */
export function resolveNeeds<T extends { id: string; needs?: readonly string[] | undefined }>(steps: readonly T[]): (T & { needs: string[] })[] {
  return steps.map((step, i) => ({ ...step, needs: step.needs !== undefined ? [...step.needs] : i === 0 ? [] : [steps[i - 1]!.id] }));
}

/**
 * Every cycle of the graph, one per strongly connected component (Tarjan's algorithm, iterative so a long chain
 * cannot overflow the stack). Each cycle is a path [a, b, …, z] where a needs b, …, and z needs a, starting at
 * the component's first step in list order. Edges to unknown steps are ignored (they are their own problem).
 */
export function findCycles(nodes: readonly GraphNode[]): string[][] {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => index.set(n.id, i));
  const edges = nodes.map((n) => n.needs.map((id) => index.get(id)).filter((i): i is number => i !== undefined));
  const order = new Array<number>(nodes.length).fill(-1);
  const low = new Array<number>(nodes.length).fill(0);
  const onStack = new Array<boolean>(nodes.length).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < nodes.length; root++) {
    if (order[root] !== -1) continue;
    const work: { node: number; edge: number }[] = [{ node: root, edge: 0 }];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work.at(-1)!;
      const next = edges[frame.node]![frame.edge++];
      if (next !== undefined) {
        if (order[next] === -1) {
          order[next] = low[next] = counter++;
          stack.push(next);
          onStack[next] = true;
          work.push({ node: next, edge: 0 });
        } else if (onStack[next]) {
          low[frame.node] = Math.min(low[frame.node]!, order[next]!);
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low[parent.node] = Math.min(low[parent.node]!, low[frame.node]!);
      if (low[frame.node] === order[frame.node]) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = false;
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && edges[component[0]!]!.includes(component[0]!);
        if (component.length > 1 || selfLoop) components.push(component.sort((a, b) => a - b));
      }
    }
  }
  return components.sort((a, b) => a[0]! - b[0]!).map((component) => cyclePath(component, edges).map((i) => nodes[i]!.id));
}

/** A shortest cycle through the component's first node, by breadth-first search inside the component. */
function cyclePath(component: number[], edges: number[][]): number[] {
  const start = component[0]!;
  const inside = new Set(component);
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const next of edges[node]!) {
      if (!inside.has(next)) continue;
      if (next === start) {
        const path = [node];
        for (let p = node; p !== start; ) {
          p = previous.get(p)!;
          path.push(p);
        }
        return path.reverse();
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

/** "a needs b, b needs c, c needs a". */
export function describeCycle(cycle: readonly string[]): string {
  return cycle.map((id, i) => `${id} needs ${cycle[(i + 1) % cycle.length]}`).join(', ');
}

/**
 * The steps in topological layers: layer 0 needs nothing, layer n needs something of layer n-1 and nothing
 * later. The steps of a layer can run in parallel. Throws on a cycle (validateJob reports cycles first).
 */
export function topologicalLayers(nodes: readonly GraphNode[]): string[][] {
  const known = new Set(nodes.map((n) => n.id));
  const depth = new Map<string, number>();
  const remaining = new Map<string, number>();
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const need of new Set(n.needs)) if (known.has(need)) dependents.get(need)!.push(n.id);
  for (const n of nodes) remaining.set(n.id, new Set(n.needs.filter((id) => known.has(id))).size);
  const queue = nodes.filter((n) => remaining.get(n.id) === 0).map((n) => n.id);
  for (const id of queue) depth.set(id, 0);
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    for (const next of dependents.get(id)!) {
      depth.set(next, Math.max(depth.get(next) ?? 0, depth.get(id)! + 1));
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  if (queue.length !== nodes.length) throw new Error(`the steps form a cycle: ${findCycles(nodes).map(describeCycle).join('; ')}`);
  const layers: string[][] = [];
  for (const n of nodes) (layers[depth.get(n.id)!] ??= []).push(n.id);
  return layers;
}

/** For each step, every step it needs directly or through others: the steps that come before it. */
export function ancestorsOf(nodes: readonly GraphNode[]): Map<string, Set<string>> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const result = new Map<string, Set<string>>();
  for (const node of nodes) {
    const seen = new Set<string>();
    const todo = [...node.needs];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id) || !byId.has(id)) continue;
      seen.add(id);
      todo.push(...byId.get(id)!.needs);
    }
    result.set(node.id, seen);
  }
  return result;
}

/** Every step that needs `id`, directly or through others, in list order. */
export function descendantsOf(nodes: readonly GraphNode[], id: string): string[] {
  const found = new Set<string>([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (!found.has(n.id) && n.needs.some((need) => found.has(need))) {
        found.add(n.id);
        grew = true;
      }
    }
  }
  found.delete(id);
  return nodes.filter((n) => found.has(n.id)).map((n) => n.id);
}
