// `npm start [-- --load N] [-- --kubeconfig FILE]`: the whole platform on this machine.
// See src/local/platform.ts for what starts, and README/CONTRIBUTING for the walk-through.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultBinDir } from './cluster/state.ts';
import { runLoad } from './load.ts';
import { startPlatform, summary, type Platform } from './platform.ts';
import { normaliseText, readSampleReceipt, readSampleText, SAMPLE_RECEIPT } from './receipts.ts';

/** The README's curl, done here: POST /v1/ocr with the sample receipt; true when the text is right. */
async function checkSample(platform: Platform): Promise<boolean> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(await readSampleReceipt())], { type: 'image/png' }), SAMPLE_RECEIPT);
  const t0 = Date.now();
  const res = await fetch(`${platform.apiUrl}/v1/ocr`, { method: 'POST', headers: { 'x-api-key': platform.apiKey }, body: form, signal: AbortSignal.timeout(120_000) });
  const body = (await res.json()) as { status?: string; result?: { text?: string } };
  const text = body.result?.text ?? '';
  const ok = res.status === 200 && normaliseText(text) === normaliseText(await readSampleText());
  process.stdout.write([
    `check: POST /v1/ocr ${res.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s; text ${ok ? 'matches' : 'DOES NOT match'} samples/receipts/${SAMPLE_RECEIPT.replace('.png', '.txt')}`,
    `check: first OCR result ${process.uptime().toFixed(1)} s after the command started (platform ready at ${platform.readySeconds.toFixed(1)} s)`,
    ...(ok ? [] : [`check: got ${JSON.stringify(body).slice(0, 500)}`]),
    '',
  ].join('\n'));
  return ok;
}

const HELP = `ocr-platform on one machine: local Kubernetes control plane, Azurite, Service Bus
stand-in, the operator, and the sample pipeline's pods running as local processes.

usage: npm start [-- flags]
  --load N            after start-up, send N receipts and show the backlog, workers,
                      throughput and latency live (also: npm run start:load -- N)
  --exit-after-load   stop everything once the load is done and the workers scaled back in
  --check             OCR the sample receipt once, print the time from the command to the
                      first result, stop everything; exit 1 if the text is not the receipt's
  --kubeconfig FILE   use this cluster instead of starting one (default: $KUBECONFIG if set)
  --base-port N       first local port for Services (default 18080: the API URL)
  -h, --help`;

function kubectlCommand(): string {
  const built = join(defaultBinDir(), 'kubectl');
  return existsSync(built) ? built : 'kubectl';
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      load: { type: 'string' },
      'exit-after-load': { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      'base-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const loadRaw = values.load ?? positionals[0];
  const load = loadRaw === undefined ? 0 : Number(loadRaw);
  if (!Number.isInteger(load) || load < 0 || load > 100_000) {
    process.stderr.write(`--load must be a whole number of receipts (0-100000), got "${loadRaw}"\n`);
    return 2;
  }
  const basePort = values['base-port'] === undefined ? undefined : Number(values['base-port']);

  let platform: Platform | undefined;
  let interrupted = false;
  let onSignal: () => void = () => {};
  const stopped = new Promise<void>((resolve) => { onSignal = resolve; });
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
    kubeconfigPath: values.kubeconfig ?? process.env.KUBECONFIG,
    ...(basePort !== undefined ? { basePort } : {}),
  });
  platform = await Promise.race([starting, stopped.then(() => undefined)]);
  if (!platform) {
    // Ctrl-C during start-up: let the start finish or fail, then stop it all
    platform = await starting.catch(() => undefined);
    await platform?.stop();
    return 130;
  }
  process.stdout.write(summary(platform, kubectlCommand()));
  if (values.check) {
    const ok = await checkSample(platform);
    await platform.stop();
    return ok ? 0 : 1;
  }
  if (load > 0 && !interrupted) {
    await runLoad(platform, load, { stopSignal: stopped, waitForScaleIn: values['exit-after-load'] });
    if (values['exit-after-load']) interrupted = true;
  }
  if (!interrupted) await stopped;
  const t0 = Date.now();
  await platform.stop();
  process.stderr.write(`everything stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
