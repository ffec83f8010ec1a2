// Debian's tesseract-ocr-<lang> packages on this machine, installed on first use by `npm start` as the
// image carries them (Dockerfile): tesseract's `fast` models in /usr/share/tesseract-ocr/5/tessdata, which
// the worker reads when spec.ocr.tesseractModel is fast, or auto with every language's file there
// (src/worker/config.ts). The languages are those of the sample pipelines (config/samples/local/*.yaml,
// which npm start runs, and config/samples/*.yaml). Installed here, never by a worker: the worker only
// looks for the files when it starts. Like Debian's prometheus (src/local/cluster/cluster.ts): apt-get
// as root, Debian's packages only, a clear error when that cannot be done.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KIND, ocrPipelineSpecSchema } from '../crds/ocrpipeline.ts';
import { Language } from '../jobs/schema.ts';
import { REPO_ROOT } from './node-agent/main.ts';
import { DEBIAN_TESSDATA } from '../worker/ocr/defaults.ts';

/** The sample pipelines whose languages npm start installs: config/samples/local/*.yaml (the one it runs), then config/samples/*.yaml. */
export function samplePipelineFiles(root = REPO_ROOT): string[] {
  const yamlIn = (dir: string) =>
    readdirSync(dir)
      .filter((file) => file.endsWith('.yaml'))
      .sort()
      .map((file) => join(dir, file));
  return [...yamlIn(join(root, 'config', 'samples', 'local')), ...yamlIn(join(root, 'config', 'samples'))];
}

/** Debian's package of a tesseract language: its code with `-` for `_` (chi_sim -> tesseract-ocr-chi-sim). Throws on a code that is none. */
export function debianPackage(language: string): string {
  const parsed = Language.safeParse(language);
  if (!parsed.success) throw new Error(`"${language}" is not a tesseract language code (such as eng, deu or chi_sim)`);
  return `tesseract-ocr-${parsed.data.replaceAll('_', '-')}`;
}

/** Pure: the languages of the OcrPipelines in `yamlText` (spec.languages, default eng as the CRD says), in order. `source` names the file in errors. */
export function pipelineLanguages(yamlText: string, source: string): string[] {
  const languages: string[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    const object = doc.toJS() as { kind?: string; spec?: unknown } | null;
    if (object?.kind !== KIND) continue;
    const spec = ocrPipelineSpecSchema.safeParse(object.spec);
    if (!spec.success) throw new Error(`${source}: not a valid OcrPipeline: ${spec.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    languages.push(...spec.data.languages);
  }
  return languages;
}

/** The languages of every sample pipeline file, each once, in the order first seen (the local sample's first). */
export function sampleLanguages(files: readonly string[] = samplePipelineFiles()): string[] {
  return [...new Set(files.flatMap((file) => pipelineLanguages(readFileSync(file, 'utf8'), file)))];
}

/** What has to be installed for `languages`: the ones without `<language>.traineddata` and their Debian packages. */
export interface TessdataPlan {
  missing: string[];
  packages: string[];
}

/** Pure: which languages lack Debian's file (`hasFile`) and which packages bring them. */
export function planTessdata(languages: readonly string[], hasFile: (language: string) => boolean): TessdataPlan {
  const missing = [...new Set(languages)].filter((language) => !hasFile(language));
  return { missing, packages: missing.map(debianPackage) };
}

/** What ensureTesseractLanguages needs of the machine; the defaults are the real ones (tests pass their own). */
export interface TessdataHost {
  hasFile: (language: string) => boolean;
  isRoot: () => boolean;
  hasAptGet: () => boolean;
  /** Runs a shell command; throws with its stderr when it fails. */
  run: (command: string) => void;
}

const APT_GET_PATHS = ['/usr/bin/apt-get', '/bin/apt-get'];

export const SYSTEM_HOST: TessdataHost = {
  hasFile: (language) => existsSync(join(DEBIAN_TESSDATA, `${language}.traineddata`)),
  isRoot: () => process.getuid?.() === 0,
  hasAptGet: () => APT_GET_PATHS.some((path) => existsSync(path)),
  run: (command) => {
    execFileSync('sh', ['-c', `${command} >/dev/null`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  },
};

/** The files of the languages in `DEBIAN_TESSDATA`, for the error that says which are still missing. */
const files = (languages: readonly string[]): string => languages.map((language) => join(DEBIAN_TESSDATA, `${language}.traineddata`)).join(', ');

/**
 * Installs Debian's tesseract-ocr-<lang> for every language of `languages` whose file is missing (as root, with
 * apt-get); returns the packages it installed (none when every file was there). Throws a clear error, and installs
 * nothing, when the machine has no apt-get or we are not root; throws with apt's message when apt-get fails, and when
 * it ran but a file is still missing.
 */
export function ensureTesseractLanguages(languages: readonly string[], log: (line: string) => void, host: TessdataHost = SYSTEM_HOST): string[] {
  const { missing, packages } = planTessdata(languages, host.hasFile);
  if (missing.length === 0) return [];
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const why = `Debian's tesseract models for ${missing.join(', ')} are missing (${files(missing)})`;
  if (!host.hasAptGet()) {
    throw new Error(
      `${why} and this machine has no apt-get: install ${packages.join(', ')} (or your distribution's tesseract 5 data for them) into ${DEBIAN_TESSDATA}`,
    );
  }
  if (!host.isRoot()) throw new Error(`${why} and we are not root: run \`sudo sh -c '${command}'\``);
  log(`${why}: installing ${packages.join(' ')} (apt-get)`);
  try {
    host.run(command);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();
    throw new Error(`installing ${packages.join(' ')} failed (${command}): ${stderr || (error instanceof Error ? error.message : String(error))}`);
  }
  const still = missing.filter((language) => !host.hasFile(language));
  if (still.length > 0) throw new Error(`\`${command}\` ran but ${files(still)} did not appear`);
  return packages;
}
