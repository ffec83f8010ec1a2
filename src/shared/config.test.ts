import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, helpText, logLevelSetting, parseSettings, requireOneOf, type Setting } from './config.ts';

const TABLE = [
  { name: 'concurrency', env: 'X_CONCURRENCY', type: 'integer', default: 2, min: 1, max: 64, help: 'Jobs at once.' },
  { name: 'timeout', env: 'X_TIMEOUT_SECONDS', type: 'number', default: 1.5, min: 0.1, unit: 'seconds', help: 'Timeout.' },
  { name: 'enabled', env: 'X_ENABLED', type: 'boolean', default: true, help: 'Switch.' },
  { name: 'languages', env: 'X_LANGUAGES', type: 'list', default: ['eng'], help: 'Languages.' },
  { name: 'mode', env: 'X_MODE', type: 'string', default: 'fast', choices: ['fast', 'slow'], help: 'Mode.' },
  { name: 'port', env: 'X_METRICS_PORT', fallbackEnv: 'X_PORT', type: 'integer', default: 9090, min: 0, max: 65535, help: 'Port.' },
  { name: 'secret', env: 'X_SECRET', type: 'string', help: 'Optional secret.' },
  logLevelSetting(),
  { name: 'help', env: '', type: 'boolean', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

void test('nothing given yields every default, and an optional setting without a default is undefined', () => {
  const s = parseSettings(TABLE, {}, []);
  assert.deepEqual(s, {
    concurrency: 2,
    timeout: 1.5,
    enabled: true,
    languages: ['eng'],
    mode: 'fast',
    port: 9090,
    secret: undefined,
    logLevel: 'info',
    help: false,
  });
});

const cases: { name: string; env: Record<string, string>; argv?: string[]; check: (s: ReturnType<typeof parseSettings<typeof TABLE>>) => void }[] = [
  {
    name: 'a flag wins over its environment variable',
    env: { X_CONCURRENCY: '3' },
    argv: ['--concurrency', '5'],
    check: (s) => assert.equal(s.concurrency, 5),
  },
  { name: 'the environment fills a setting no flag gives', env: { X_CONCURRENCY: '3' }, argv: [], check: (s) => assert.equal(s.concurrency, 3) },
  {
    name: 'an empty environment variable counts as unset',
    env: { X_CONCURRENCY: '', X_SECRET: '' },
    check: (s) => assert.deepEqual([s.concurrency, s.secret], [2, undefined]),
  },
  { name: 'the fallback variable is read when the first is unset', env: { X_PORT: '8081' }, check: (s) => assert.equal(s.port, 8081) },
  { name: 'the first variable wins over the fallback variable', env: { X_PORT: '8081', X_METRICS_PORT: '9191' }, check: (s) => assert.equal(s.port, 9191) },
  { name: 'a bare boolean flag means true', env: { X_ENABLED: 'false' }, argv: ['--enabled'], check: (s) => assert.equal(s.enabled, true) },
  { name: 'a boolean flag given =false turns it off', env: {}, argv: ['--enabled=false'], check: (s) => assert.equal(s.enabled, false) },
  { name: 'boolean variables accept yes/no, on/off and 1/0 in any case', env: { X_ENABLED: 'OFF' }, check: (s) => assert.equal(s.enabled, false) },
  {
    name: 'a list is split at commas and trimmed, dropping empty items',
    env: { X_LANGUAGES: ' eng , deu,,' },
    check: (s) => assert.deepEqual(s.languages, ['eng', 'deu']),
  },
  { name: 'a number may be fractional', env: { X_TIMEOUT_SECONDS: '0.5' }, check: (s) => assert.equal(s.timeout, 0.5) },
  {
    name: 'a choice from the list is accepted',
    env: { X_MODE: 'slow', LOG_LEVEL: 'debug' },
    check: (s) => assert.deepEqual([s.mode, s.logLevel], ['slow', 'debug']),
  },
  { name: 'without argv the process takes no flags and reads only the environment', env: { X_SECRET: 's' }, check: (s) => assert.equal(s.secret, 's') },
];
for (const c of cases) void test(c.name, () => c.check(parseSettings(TABLE, c.env, c.argv)));

const errors: { name: string; env?: Record<string, string>; argv?: string[]; message: RegExp }[] = [
  {
    name: 'an integer out of range is refused naming the variable and the range',
    env: { X_CONCURRENCY: '0' },
    message: /^X_CONCURRENCY must be an integer between 1 and 64, got "0"$/,
  },
  { name: 'a fraction where an integer is expected is refused', env: { X_CONCURRENCY: '1.5' }, message: /X_CONCURRENCY must be an integer between 1 and 64/ },
  {
    name: 'a value given by flag is refused naming the flag',
    argv: ['--concurrency', '65'],
    message: /^--concurrency must be an integer between 1 and 64, got "65"$/,
  },
  {
    name: 'a number below its minimum is refused with its unit',
    env: { X_TIMEOUT_SECONDS: '0' },
    message: /^X_TIMEOUT_SECONDS must be a number at least 0.1 \(seconds\), got "0"$/,
  },
  { name: 'a word where a number is expected is refused', env: { X_TIMEOUT_SECONDS: 'soon' }, message: /X_TIMEOUT_SECONDS must be a number/ },
  { name: 'a value that is not true or false is refused', env: { X_ENABLED: 'maybe' }, message: /^X_ENABLED must be true or false, got "maybe"$/ },
  { name: 'a string outside its choices is refused listing them', env: { X_MODE: 'medium' }, message: /^X_MODE must be one of fast, slow; got "medium"$/ },
  { name: 'an unknown log level is refused', env: { LOG_LEVEL: 'loud' }, message: /LOG_LEVEL must be one of trace, debug, info/ },
  { name: 'an unknown flag is refused with a pointer to --help', argv: ['--bogus'], message: /--bogus[\s\S]*Run with --help/ },
  { name: 'a positional argument is refused', argv: ['extra'], message: /Run with --help/ },
];
for (const e of errors) {
  void test(e.name, () =>
    assert.throws(
      () => parseSettings(TABLE, e.env ?? {}, e.argv),
      (err: unknown) => err instanceof ConfigError && e.message.test(err.message),
    ),
  );
}

void test('help text in flag mode lists every flag with its variable and default', () => {
  const help = helpText(TABLE, { intro: ['x: a test process.'], flags: true });
  for (const s of TABLE) {
    const line = help.split('\n').find((l) => l.startsWith(`  --${s.name}`));
    assert.ok(line, s.name);
    if (s.env) assert.ok(line.includes(`env ${s.env}`), `${s.name} names ${s.env}`);
    if ('default' in s && s.env) assert.match(line, /default /, `${s.name} shows its default`);
  }
  assert.match(help, /--concurrency <value> +Jobs at once\. \(env X_CONCURRENCY, default 2, between 1 and 64\)/);
  assert.match(help, /--enabled +Switch\./);
  assert.match(help, /default 1\.5 seconds, at least 0\.1/);
});

void test('help text in environment mode lists every variable with its default, fallback and choices', () => {
  const help = helpText(TABLE, { intro: ['x'], flags: false, footer: ['the end'] });
  for (const s of TABLE) if (s.env) assert.ok(help.includes(`  ${s.env} `), s.env);
  assert.doesNotMatch(help, /--/);
  assert.match(help, /X_METRICS_PORT +Port\. \(else X_PORT, default 9090, between 0 and 65535\)/);
  assert.match(help, /X_LANGUAGES +Languages\. \(default eng\)/);
  assert.match(help, /LOG_LEVEL +pino log level\. \(default info, one of trace, debug/);
  assert.ok(help.endsWith('\n\nthe end'));
});

void test('"needs X or Y" is one message shape naming every alternative and why', () => {
  assert.throws(
    () => requireOneOf({ SERVICEBUS_CONNECTION_STRING: undefined, SERVICEBUS_NAMESPACE: '' }, 'the worker receives jobs from it'),
    (err: unknown) =>
      err instanceof ConfigError && err.message === 'set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE: the worker receives jobs from it',
  );
  assert.doesNotThrow(() => requireOneOf({ A: undefined, B: 'b' }, 'why'));
});

// Developer CLIs (Service Bus stand-in, npm start, the cluster tool): repeatable flags, bare arguments, -h.
const CLI = [
  { name: 'command', env: '', type: 'string', positional: true, help: 'What to do.' },
  { name: 'load', env: '', type: 'integer', min: 0, max: 100, default: 0, positional: true, help: 'Receipts to send.' },
  { name: 'queue', env: '', type: 'string', repeatable: true, help: 'A queue.' },
  { name: 'extra-key', env: 'X_EXTRA_KEY', type: 'string', repeatable: true, help: 'NAME=KEY:RIGHTS.' },
  { name: 'status', env: '', type: 'string', repeatable: true, choices: ['Active', 'Disabled'], help: 'Status.' },
  { name: 'help', env: '', type: 'boolean', short: 'h', default: false, help: 'Print this help and exit.' },
] as const satisfies readonly Setting[];

const cliCases: { name: string; argv: string[]; env?: Record<string, string>; want: Partial<ReturnType<typeof parseSettings<typeof CLI>>> }[] = [
  {
    name: 'nothing given: positional unset, repeatable empty',
    argv: [],
    want: { command: undefined, load: 0, queue: [], 'extra-key': [], status: [], help: false },
  },
  { name: 'a repeatable flag returns every occurrence in order', argv: ['--queue', 'a', '--queue=b'], want: { queue: ['a', 'b'] } },
  {
    name: 'a repeatable value is not split at commas',
    argv: ['--extra-key', 'sender=s3cret:Send,Listen'],
    want: { 'extra-key': ['sender=s3cret:Send,Listen'] },
  },
  { name: 'a repeatable variable gives one whole value', argv: [], env: { X_EXTRA_KEY: 'l=k:Listen,Send' }, want: { 'extra-key': ['l=k:Listen,Send'] } },
  {
    name: 'repeatable flags win over the variable',
    argv: ['--extra-key', 'a=b:Send'],
    env: { X_EXTRA_KEY: 'l=k:Listen' },
    want: { 'extra-key': ['a=b:Send'] },
  },
  { name: 'bare arguments fill positional settings in table order', argv: ['up', '7'], want: { command: 'up', load: 7 } },
  { name: 'bare arguments may come after flags', argv: ['--queue', 'q', 'down'], want: { command: 'down', queue: ['q'] } },
  { name: 'a positional setting given as a flag takes no bare argument', argv: ['--command', 'up', '5'], want: { command: 'up', load: 5 } },
  { name: 'the one-letter alias of a boolean flag means true', argv: ['-h'], want: { help: true } },
  { name: 'the long form of an aliased flag still works', argv: ['--help'], want: { help: true } },
];
for (const c of cliCases) {
  void test(`cli: ${c.name}`, () => {
    const s = parseSettings(CLI, c.env ?? {}, c.argv);
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(s[k as keyof typeof s], v, k);
  });
}

const cliErrors: { name: string; argv: string[]; message: RegExp }[] = [
  { name: 'a bare argument is validated as its flag', argv: ['up', 'many'], message: /^--load must be an integer between 0 and 100, got "many"$/ },
  { name: 'more bare arguments than positional settings are refused', argv: ['up', '1', 'extra'], message: /^Unexpected argument "extra"\nRun with --help/ },
  {
    name: 'each value of a repeatable flag is checked against its choices',
    argv: ['--status', 'Active', '--status', 'Gone'],
    message: /^--status must be one of Active, Disabled; got "Gone"$/,
  },
  { name: 'an unknown one-letter flag is refused', argv: ['-x'], message: /-x[\s\S]*Run with --help/ },
];
for (const e of cliErrors) {
  void test(`cli: ${e.name}`, () =>
    assert.throws(
      () => parseSettings(CLI, {}, e.argv),
      (err: unknown) => err instanceof ConfigError && e.message.test(err.message),
    ));
}

void test('cli: help shows the alias, repeatable flags and which bare argument fills a setting', () => {
  const help = helpText(CLI, { intro: ['x'], flags: true });
  assert.match(help, /^ {2}-h, --help +Print this help and exit\.$/m);
  assert.match(help, /--queue <value> +A queue\. \(repeatable\)/);
  assert.match(help, /--extra-key <value> +NAME=KEY:RIGHTS\. \(repeatable, env X_EXTRA_KEY\)/);
  assert.match(help, /--command <value> +What to do\. \(or as bare argument 1\)/);
  assert.match(help, /--load <value> +Receipts to send\. \(or as bare argument 2, default 0, between 0 and 100\)/);
});
