// Which host process runs a container of our image. The node agent does not pull or
// unpack images: it runs the image's command from this checkout instead, with the same
// Node 24 that runs the agent. Only commands of this project's image are accepted, so a
// pod spec can never make the agent run an arbitrary program on the host.
//
//   image command (pod spec)        host process (src preferred)           or, with prefer 'dist'
//   node dist/api/main.js           <node> src/api/main.ts                 <node> dist/api/main.js
//   node dist/worker/main.js        <node> src/worker/main.ts              <node> dist/worker/main.js
//   node dist/operator/main.js      <node> src/operator/main.ts            <node> dist/operator/main.js
//   node <other file in checkout>   <node> <that file> (dist/X.js -> src/X.ts the same way)
//
// src/ is the default because it is always current: dist/ is only as fresh as the last
// `npm run build`. Node 24 runs the .ts sources directly (type stripping).
import { existsSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';

export interface HostCommand {
  /** Executable: always the agent's own Node binary. */
  file: string;
  args: string[];
  /** Working directory: the checkout, like the image's WORKDIR holds the app. */
  cwd: string;
}

export interface CommandOptions {
  /** Root of the checkout (holds src/ and maybe dist/). */
  root: string;
  /** Node binary to run (default: the agent's own, process.execPath). */
  node?: string;
  /** Run dist/ JavaScript when it exists instead of the src/ TypeScript (default 'src'). */
  prefer?: 'src' | 'dist';
  /** For tests: whether a path exists (default fs.existsSync). */
  exists?: (path: string) => boolean;
}

export class CommandNotMappedError extends Error {
  override name = 'CommandNotMappedError';
}

/** The image's entry points, the table above in code form. */
export const IMAGE_ENTRY_POINTS: Readonly<Record<string, string>> = {
  'dist/api/main.js': 'src/api/main.ts',
  'dist/worker/main.js': 'src/worker/main.ts',
  'dist/operator/main.js': 'src/operator/main.ts',
};

const NODE_NAMES = new Set(['node', '/usr/local/bin/node', '/usr/bin/node', 'nodejs']);

/** The source twin of a built file: dist/a/b.js -> src/a/b.ts (undefined for anything else). */
export function sourceOf(distPath: string): string | undefined {
  if (IMAGE_ENTRY_POINTS[distPath]) return IMAGE_ENTRY_POINTS[distPath];
  const match = /^dist\/(.+)\.js$/.exec(distPath);
  return match ? `src/${match[1]}.ts` : undefined;
}

/**
 * Maps a container's command + args (Kubernetes semantics: `command` replaces the
 * image's ENTRYPOINT, `args` its CMD) to a host process. Throws CommandNotMappedError
 * with what to change when the command is not one of ours.
 */
export function mapCommand(command: readonly string[] | undefined, args: readonly string[] | undefined, options: CommandOptions): HostCommand {
  const argv = [...(command ?? []), ...(args ?? [])];
  const exists = options.exists ?? existsSync;
  const node = options.node ?? process.execPath;
  const [program, script, ...rest] = argv;
  if (program === undefined) {
    throw new CommandNotMappedError(
      'the container has no command: the local node agent cannot read an image ENTRYPOINT, so set command to ["node", "dist/api/main.js"] or ["node", "dist/worker/main.js"]',
    );
  }
  if (!NODE_NAMES.has(program)) {
    throw new CommandNotMappedError(
      `command "${argv.join(' ')}" is not a Node.js command of this project's image; the local node agent only runs "node <file in this checkout>" (see src/local/node-agent/commands.ts)`,
    );
  }
  if (script === undefined || script.startsWith('-')) {
    throw new CommandNotMappedError(
      `command "${argv.join(' ')}" runs no script file; the local node agent only runs "node <file in this checkout>" such as "node dist/worker/main.js"`,
    );
  }
  const inRepo = normalize(isAbsolute(script) ? relative('/app', script) : script);
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) {
    throw new CommandNotMappedError(`script "${script}" is outside the image's app directory; the local node agent only runs files of this checkout`);
  }
  const candidates = candidatesFor(inRepo, options.prefer ?? 'src');
  const found = candidates.find((c) => exists(join(options.root, c)));
  if (!found) {
    throw new CommandNotMappedError(
      `none of ${candidates.join(', ')} exists in ${options.root}; is this the ocr-platform checkout (run \`npm run build\` for dist/)?`,
    );
  }
  return { file: node, args: [join(options.root, found), ...rest], cwd: options.root };
}

function candidatesFor(path: string, prefer: 'src' | 'dist'): string[] {
  const source = sourceOf(path);
  if (!source) return [path];
  return prefer === 'src' ? [source, path] : [path, source];
}
