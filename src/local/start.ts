// `npm start [-- --load N] [-- --kubeconfig FILE]`: the whole platform on this machine.
// See src/local/platform.ts for what starts, and README/CONTRIBUTING for the walk-through.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, helpText as renderHelp, parseSettings, type Env, type Setting } from '../shared/config.ts';
import { fileTracker, setChildTracker, stopLeftovers } from './children.ts';
import { CACHE_DIR_ENV, cacheDir, defaultBinDir } from './cluster/state.ts';
import { runLoad } from './load.ts';
import { startPlatform, summary, type Platform } from './platform.ts';
import { startReaper } from './reaper.ts';
import { normaliseText, readSampleReceipt, readSampleText, SAMPLE_RECEIPT } from './receipts.ts';

/** The README's curl, done here: POST /v1/ocr with the sample receipt; true when the text is right. */
async function checkSample(platform: Platform): Promise<boolean> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(await readSampleReceipt())], { type: 'image/png' }), SAMPLE_RECEIPT);
  const t0 = Date.now();
  const res = await fetch(`${platform.apiUrl}/v1/ocr`, {
    method: 'POST',
    headers: { 'x-api-key': platform.apiKey },
    body: form,
    signal: AbortSignal.timeout(120_000),
  });
  const body = (await res.json()) as { status?: string; result?: { text?: string } };
  const text = body.result?.text ?? '';
  const ok = res.status === 200 && normaliseText(text) === normaliseText(await readSampleText());
  process.stdout.write(
    [
      `check: POST /v1/ocr ${res.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s; text ${ok ? 'matches' : 'DOES NOT match'} samples/receipts/${SAMPLE_RECEIPT.replace('.png', '.txt')}`,
      `check: first OCR result ${process.uptime().toFixed(1)} s after the command started (platform ready at ${platform.readySeconds.toFixed(1)} s)`,
      ...(ok ? [] : [`check: got ${JSON.stringify(body).slice(0, 500)}`]),
      '',
    ].join('\n'),
  );
  return ok;
}

export const FLAGS = [
  {
    name: 'load',
    env: '',
    type: 'integer',
    default: 0,
    min: 0,
    max: 100_000,
    positional: true,
    help: 'After start-up, send N receipts and show the backlog, workers, throughput and latency live (also: npm run start:load -- N).',
  },
  { name: 'exit-after-load', env: '', type: 'boolean', default: false, help: 'Stop everything once the load is done and the workers scaled back in.' },
  {
    name: 'check',
    env: '',
    type: 'boolean',
    default: false,
    help: "OCR the sample receipt once, print the time from the command to the first result, stop everything; exit 1 if the text is not the receipt's.",
  },
  { name: 'kubeconfig', env: 'KUBECONFIG', type: 'string', help: 'Use this cluster instead of starting one.' },
  { name: 'base-port', env: '', type: 'integer', min: 1, max: 65_535, defaultHelp: '18080: the API URL', help: 'First local port for Services.' },
  { name: 'help', env: '', type: 'boolean', short: 'h', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

export function helpText(): string {
  return renderHelp(FLAGS, {
    intro: [
      'ocr-platform on one machine: local Kubernetes control plane, Azurite, Service Bus',
      "stand-in, the operator, and the sample pipeline's pods running as local processes.",
      '',
      'Usage: npm start [-- flags]',
    ],
    flags: true,
    footer: [`Environment: ${CACHE_DIR_ENV} (default $HOME/.cache/ocr-platform) for binaries, cluster state and logs.`],
  });
}

export interface StartConfig {
  /** Receipts to send after start-up; 0: none. */
  load: number;
  exitAfterLoad: boolean;
  check: boolean;
  /** A cluster to use instead of starting the local control plane. */
  kubeconfig: string | undefined;
  basePort: number | undefined;
  /** $OCR_CACHE_DIR or its default. */
  cacheDir: string;
  help: boolean;
}

/** Pure: parses argv and `env` (main passes process.argv and process.env); throws ConfigError naming the flag. */
export function parseConfig(argv: readonly string[], env: Env): StartConfig {
  const v = parseSettings(FLAGS, env, argv);
  return {
    load: v.load,
    exitAfterLoad: v['exit-after-load'],
    check: v.check,
    kubeconfig: v.kubeconfig,
    basePort: v['base-port'],
    cacheDir: cacheDir(env),
    help: v.help,
  };
}

function kubectlCommand(cache: string): string {
  const built = join(defaultBinDir(cache), 'kubectl');
  return existsSync(built) ? built : 'kubectl';
}

/**
 * No process outlives npm start, however it ends (src/local/children.ts): first stop what a
 * killed earlier run left behind, then hand every child to the watchdog and to this run's file.
 * Returns the clean-up for a normal exit (the file goes; the watchdog finds nothing to stop).
 */
async function tieChildrenToThisProcess(cache: string): Promise<() => void> {
  const localDir = join(cache, 'local');
  mkdirSync(localDir, { recursive: true });
  const leftovers = await stopLeftovers(localDir);
  if (leftovers.length > 0) {
    const names = leftovers.map((r) => `${r.what} (pid ${r.pid})`).join(', ');
    process.stderr.write(`stopped ${leftovers.length} processes left by an earlier npm start that was killed: ${names}\n`);
  }
  const reaper = startReaper();
  const file = fileTracker(localDir);
  setChildTracker((record) => {
    reaper.track(record);
    file.track(record);
  });
  return () => {
    setChildTracker(undefined);
    file.remove();
  };
}

async function main(): Promise<number> {
  let cfg: StartConfig;
  try {
    cfg = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (cfg.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  const untie = await tieChildrenToThisProcess(cfg.cacheDir);
  try {
    return await run(cfg);
  } finally {
    untie();
  }
}

async function run(cfg: StartConfig): Promise<number> {
  const { load, basePort } = cfg;

  let platform: Platform | undefined;
  let interrupted = false;
  let onSignal: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  const handler = (signal: string) => {
    if (interrupted) {
      process.stderr.write(`${signal} again: still stopping, please wait (pods get their grace period)\n`);
      return;
    }
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping everything ...\n`);
    onSignal();
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));

  const starting = startPlatform({
    cacheDir: cfg.cacheDir,
    kubeconfigPath: cfg.kubeconfig,
    ...(basePort !== undefined ? { basePort } : {}),
  });
  platform = await Promise.race([starting, stopped.then(() => undefined)]);
  if (!platform) {
    // Ctrl-C during start-up: let the start finish or fail, then stop it all
    platform = await starting.catch(() => undefined);
    await platform?.stop();
    return 130;
  }
  process.stdout.write(summary(platform, kubectlCommand(cfg.cacheDir)));
  if (cfg.check) {
    const ok = await checkSample(platform);
    await platform.stop();
    return ok ? 0 : 1;
  }
  if (load > 0 && !interrupted) {
    await runLoad(platform, load, { stopSignal: stopped, waitForScaleIn: cfg.exitAfterLoad });
    if (cfg.exitAfterLoad) interrupted = true;
  }
  if (!interrupted) await stopped;
  const t0 = Date.now();
  await platform.stop();
  process.stderr.write(`everything stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main();
  } catch (error) {
    process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
