// Where a V8 CPU profile (node --cpu-prof) spent its busy samples: by function (self time), by
// package or source file (self time), and the inclusive share of the project's own frames (a
// function and everything it called). Busy = every sample but (idle). Used by bench/api/profile.ts.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds between consecutive samples (the first one: since the profile's start). */
  timeDeltas: number[];
}

/** A frame's place: the npm package (`fastify`, `zod`), the project file (`src/api/route.ts`), `node:<module>` or the V8 marker. */
export function frameGroup(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return url;
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url);
  return own ? (own[1] as string) : url;
}

function label(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${frameGroup(frame)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / Math.max(1, whole)).toFixed(1).padStart(5)}%`;
}

function top(counts: Map<string, number>, busy: number, limit: number): string[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, n]) => `  ${percent(n, busy)}  ${name}`);
}

/** Busy samples per node id after the first `skipMs` of the profile (start-up), and each node's parent. */
function tally(profile: CpuProfile, skipMs: number): { self: Map<number, number>; parent: Map<number, number>; busy: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let busy = 0;
  let elapsedMicros = 0;
  for (const [i, id] of profile.samples.entries()) {
    elapsedMicros += profile.timeDeltas[i] ?? 0;
    if (elapsedMicros < skipMs * 1000 || byId.get(id)?.callFrame.functionName === '(idle)') continue;
    self.set(id, (self.get(id) ?? 0) + 1);
    busy += 1;
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  return { self, parent, busy };
}

/** Inclusive samples per frame label (project frames only, or all): a sample counts once for every distinct function on its stack. */
function inclusive(profile: CpuProfile, self: Map<number, number>, parent: Map<number, number>, ownOnly: boolean): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  for (const [id, n] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || (ownOnly && (!/\/(src|bench)\//.test(frame.url) || frame.url.includes('node_modules')))) continue;
      seen.add(label(frame));
    }
    for (const name of seen) totals.set(name, (totals.get(name) ?? 0) + n);
  }
  return totals;
}

/** The summary of the samples after the first `skipMs` milliseconds (the process's start-up and warm-up). */
export function summariseProfile(profile: CpuProfile, skipMs = 0, limit = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const { self, parent, busy } = tally(profile, skipMs);
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, n] of self) {
    const frame = byId.get(id)?.callFrame as CallFrame;
    byFunction.set(label(frame), (byFunction.get(label(frame)) ?? 0) + n);
    byGroup.set(frameGroup(frame), (byGroup.get(frameGroup(frame)) ?? 0) + n);
  }
  return [
    `busy samples: ${busy} of ${profile.samples.length}`,
    'self time by function:',
    ...top(byFunction, busy, limit),
    'self time by package / file:',
    ...top(byGroup, busy, limit),
    'inclusive time of project frames:',
    ...top(inclusive(profile, self, parent, true), busy, limit),
    'inclusive time of every frame:',
    ...top(inclusive(profile, self, parent, false), busy, limit * 2),
  ].join('\n');
}
