// bench:operator --cpu-profile: where the operator's CPU went in a measured window, from the V8
// CPU profile memory-probe.ts wrote (SIGWINCH to start, SIGWINCH to stop and write). Self time
// of busy samples (all but "(idle)") by place (our source file, npm package, node: module or a
// V8 marker such as "(garbage collector)") and by function.
import { readFileSync, rmSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  /** µs between consecutive samples */
  timeDeltas: number[];
  /** µs on V8's clock */
  startTime?: number;
  endTime?: number;
}

export interface ProfileSummary {
  /** ms of samples other than (idle) */
  busyMs: number;
  wallMs: number;
  /** [place, ms], most first */
  byPlace: Array<[string, number]>;
  /** [function at place:line, ms], most first */
  byFunction: Array<[string, number]>;
}

/** Pure: the place of a frame: "src/operator/kube.ts" (of dist/ or src/), "@kubernetes/client-node", "node:internal/…" or "(garbage collector)". */
export function placeOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/((?:dist|src|bench|test)\/.*)$/.exec(url);
  return own ? own[1]! : url;
}

/** Pure: self time per place and per function over the busy samples, `limit` of each. */
export function summarizeProfile(p: CpuProfile, limit = 10): ProfileSummary {
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  let wallUs = 0;
  p.samples.forEach((id, i) => {
    // A sample's weight is the time to the next one (the last one: the mean interval).
    const us = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0;
    wallUs += us;
    const f = frames.get(id);
    if (!f || f.functionName === '(idle)') return;
    busyUs += us;
    const place = placeOf(f);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    const fn = `${f.functionName || '(anonymous)'} ${place}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  });
  const topOf = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([k, v]): [string, number] => [k, v / 1000]);
  const spanUs = p.startTime !== undefined && p.endTime !== undefined ? p.endTime - p.startTime : wallUs;
  return { busyMs: busyUs / 1000, wallMs: spanUs / 1000, byPlace: topOf(byPlace), byFunction: topOf(byFunction) };
}

/** Reads a profile file, summarizes it and deletes it (profiles of 1,000 pipelines run to tens of MB). */
export function summarizeProfileFile(path: string, keep: boolean): ProfileSummary {
  const summary = summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
  if (!keep) rmSync(path, { force: true });
  return summary;
}

/** The summary as text lines for the report. */
export function profileLines(title: string, s: ProfileSummary): string {
  const share = (ms: number) => `${ms.toFixed(0)} ms (${((ms / Math.max(1, s.busyMs)) * 100).toFixed(1)} %)`;
  return [
    `${title}: ${s.busyMs.toFixed(0)} ms busy of ${s.wallMs.toFixed(0)} ms profiled`,
    `  by place (self): ${s.byPlace.map(([k, v]) => `${k} ${share(v)}`).join(', ')}`,
    `  by function (self):`,
    ...s.byFunction.map(([k, v]) => `    ${share(v)}  ${k}`),
  ].join('\n');
}
