// Debian's tesseract language packages on first use (tessdata.ts): the package names, the languages of the
// samples, what is missing, and what ensureTesseractLanguages does on a machine that has them, lacks them,
// is not root, has no apt-get, or whose apt-get fails.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDocument, stringify } from 'yaml';
import { DEBIAN_TESSDATA } from '../worker/ocr/defaults.ts';
import { debianPackage, ensureTesseractLanguages, pipelineLanguages, planTessdata, samplePipelineFiles, SYSTEM_HOST, type TessdataHost } from './tessdata.ts';

void describe("Debian's package of a tesseract language", () => {
  const cases: [language: string, pkg: string][] = [
    ['eng', 'tesseract-ocr-eng'],
    ['deu', 'tesseract-ocr-deu'],
    ['chi_sim', 'tesseract-ocr-chi-sim'],
    ['chi_tra', 'tesseract-ocr-chi-tra'],
  ];
  for (const [language, pkg] of cases) void it(`${language} is ${pkg}`, () => assert.equal(debianPackage(language), pkg));
  for (const bad of ['ENG', 'en', 'eng; rm -rf /', '../eng', ''])
    void it(`"${bad}" is refused as no language code`, () => assert.throws(() => debianPackage(bad), /is not a tesseract language code/));
});

void describe('the languages of sample pipelines', () => {
  const minimal = readFileSync(
    samplePipelineFiles().find((file) => file.endsWith('ocrpipeline-minimal.yaml'))!,
    'utf8',
  );
  const withLanguages = (languages: string[] | undefined): string => {
    const doc = parseDocument(minimal).toJS() as { spec: Record<string, unknown> };
    if (languages) doc.spec.languages = languages;
    else delete doc.spec.languages;
    return stringify(doc);
  };
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: "a pipeline's languages, in its order", yaml: withLanguages(['deu', 'chi_sim', 'eng']), want: ['deu', 'chi_sim', 'eng'] },
    { name: 'eng for a pipeline without languages (the CRD default)', yaml: withLanguages(undefined), want: ['eng'] },
    {
      name: 'the OcrPipelines of a file with other kinds',
      yaml: `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n${withLanguages(['fra'])}---\n${withLanguages(['nld', 'eng'])}`,
      want: ['fra', 'nld', 'eng'],
    },
  ];
  for (const c of cases) void it(c.name, () => assert.deepEqual(pipelineLanguages(c.yaml, 'x.yaml'), c.want));

  void it('refuses a pipeline that is not valid, naming the file', () =>
    assert.throws(() => pipelineLanguages(withLanguages(['English']), 'bad.yaml'), /^Error: bad\.yaml: not a valid OcrPipeline: languages/));

  void it('reads the local sample first, then the other samples', () => {
    const files = samplePipelineFiles().map((file) => file.split(`${join('config', 'samples')}/`)[1]);
    assert.equal(files[0], 'local/ocrpipeline.yaml');
    assert.ok(files.includes('ocrpipeline-full.yaml') && files.includes('ocrpipeline-minimal.yaml'), files.join(', '));
  });
});

void describe('what is missing', () => {
  const cases: { name: string; languages: string[]; present: string[]; want: { missing: string[]; packages: string[] } }[] = [
    { name: 'nothing when every file is there', languages: ['eng', 'deu'], present: ['eng', 'deu', 'chi_sim'], want: { missing: [], packages: [] } },
    {
      name: 'the languages without a file, once each, in order',
      languages: ['eng', 'chi_sim', 'fra', 'chi_sim'],
      present: ['eng'],
      want: { missing: ['chi_sim', 'fra'], packages: ['tesseract-ocr-chi-sim', 'tesseract-ocr-fra'] },
    },
  ];
  for (const c of cases)
    void it(c.name, () =>
      assert.deepEqual(
        planTessdata(c.languages, (l) => c.present.includes(l)),
        c.want,
      ),
    );
});

/** A machine with `present` files that installs what apt-get is asked for (unless told to fail or to install nothing). */
function fakeHost(present: string[], machine: { root?: boolean; apt?: boolean; aptFails?: string; installsNothing?: boolean } = {}) {
  const files = new Set(present);
  const commands: string[] = [];
  const host: TessdataHost = {
    hasFile: (language) => files.has(language),
    isRoot: () => machine.root ?? true,
    hasAptGet: () => machine.apt ?? true,
    run: (command) => {
      commands.push(command);
      if (machine.aptFails) throw Object.assign(new Error('Command failed'), { stderr: Buffer.from(machine.aptFails) });
      if (machine.installsNothing) return;
      for (const [, name] of command.matchAll(/tesseract-ocr-([a-z-]+)/g)) files.add(name!.replaceAll('-', '_'));
    },
  };
  return { host, commands };
}

void describe('installing on first use', () => {
  void it('installs nothing and says nothing when every file is there', () => {
    const { host, commands } = fakeHost(['eng', 'deu']);
    const logged: string[] = [];
    assert.deepEqual(
      ensureTesseractLanguages(['eng', 'deu'], (l) => logged.push(l), host),
      [],
    );
    assert.deepEqual([commands, logged], [[], []]);
  });

  void it("installs the missing languages' packages with one apt-get, and says so", () => {
    const { host, commands } = fakeHost(['eng']);
    const logged: string[] = [];
    assert.deepEqual(
      ensureTesseractLanguages(['eng', 'deu', 'chi_sim'], (l) => logged.push(l), host),
      ['tesseract-ocr-deu', 'tesseract-ocr-chi-sim'],
    );
    assert.deepEqual(commands, ['apt-get update && apt-get install -y --no-install-recommends tesseract-ocr-deu tesseract-ocr-chi-sim']);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /deu, chi_sim are missing .*installing tesseract-ocr-deu tesseract-ocr-chi-sim \(apt-get\)/);
  });

  const refusals: { name: string; machine: Parameters<typeof fakeHost>[1]; error: RegExp; ran: boolean }[] = [
    {
      name: 'not root: the sudo command to run',
      machine: { root: false },
      error: /we are not root: run `sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends tesseract-ocr-fra'`/,
      ran: false,
    },
    {
      name: 'no apt-get: the packages and where their files go',
      machine: { apt: false },
      error: /has no apt-get: install tesseract-ocr-fra .* into \/usr\/share\/tesseract-ocr\/5\/tessdata/,
      ran: false,
    },
    {
      name: "apt-get fails: apt's own message",
      machine: { aptFails: 'E: Unable to locate package tesseract-ocr-fra' },
      error: /installing tesseract-ocr-fra failed .*E: Unable to locate package tesseract-ocr-fra/,
      ran: true,
    },
    {
      name: 'apt-get runs but the file does not appear: the file',
      machine: { installsNothing: true },
      error: /ran but \/usr\/share\/tesseract-ocr\/5\/tessdata\/fra\.traineddata did not appear/,
      ran: true,
    },
  ];
  for (const c of refusals) {
    void it(`fails clearly when ${c.name}`, () => {
      const { host, commands } = fakeHost(['eng'], c.machine);
      assert.throws(() => ensureTesseractLanguages(['eng', 'fra'], () => {}, host), c.error);
      assert.equal(commands.length, c.ran ? 1 : 0);
    });
  }

  const debianHas = ['eng', 'deu', 'chi_sim'].every((l) => existsSync(join(DEBIAN_TESSDATA, `${l}.traineddata`)));
  void it(
    "on this machine, with Debian's eng, deu and chi_sim installed, finds them and installs nothing",
    { skip: debianHas ? false : `Debian's tesseract-ocr-eng, -deu and -chi-sim are not all in ${DEBIAN_TESSDATA}` },
    () => {
      const ran: string[] = [];
      assert.deepEqual(
        ensureTesseractLanguages(['eng', 'deu', 'chi_sim'], () => {}, { ...SYSTEM_HOST, run: (command) => ran.push(command) }),
        [],
      );
      assert.deepEqual(ran, []);
    },
  );
});
