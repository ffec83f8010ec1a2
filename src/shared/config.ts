// The one config reader of the platform. Each process (operator, API, worker) describes its
// settings in one table of `Setting`s; the same table produces the `--help` text and drives a
// pure parser over an `env` record (and, for processes that take flags, over argv). Mains hand
// `process.env` and `process.argv` in; nothing here reads them, so every reader is testable.
//
// Precedence: a flag, then the environment variable, then `fallbackEnv`, then the default. An
// empty environment variable counts as unset (Kubernetes renders optional values as "").
// A wrong value fails start-up with a ConfigError that names the flag or variable it came
// from and the allowed range, instead of a NaN deep in the code.
import { parseArgs } from 'node:util';
import { ENV } from '../contract/container.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type SettingType = 'string' | 'boolean' | 'integer' | 'number' | 'list';

export interface Setting {
  /** Key in the parsed result; also the flag (`--<name>`) when the process takes flags. */
  readonly name: string;
  /** Environment variable; '' for a flag with no variable (such as --help). */
  readonly env: string;
  /** A second variable read when `env` is unset (the worker reads PORT when METRICS_PORT is unset). */
  readonly fallbackEnv?: string;
  readonly type: SettingType;
  /** Value when nothing is given; without one the result is undefined when unset. Not validated. */
  readonly default?: string | number | boolean | readonly string[];
  /** How --help shows a default that is computed elsewhere, e.g. '(read from the queue, else 10)'. */
  readonly defaultHelp?: string;
  readonly help: string;
  /** Inclusive bounds for integer and number settings. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values of a string setting. */
  readonly choices?: readonly string[];
  /** Unit of a numeric setting (seconds, ms, bytes), shown in --help and in range errors. */
  readonly unit?: string;
  /**
   * String flags only: every occurrence counts, in order, each value whole (not split at commas,
   * so `--extra-key sender=k:Send,Listen` stays one value); the result is a string[], [] when
   * none is given. Its environment variable, if any, gives one value.
   */
  readonly repeatable?: boolean;
  /** Also taken from a bare argument: bare arguments fill such settings in table order; the flag wins. */
  readonly positional?: boolean;
  /** One-letter alias of the flag, e.g. 'h' for -h. */
  readonly short?: string;
}

type ValueOf<S extends Setting> = S extends { readonly repeatable: true }
  ? string[]
  : S['type'] extends 'boolean'
    ? boolean
    : S['type'] extends 'integer' | 'number'
      ? number
      : S['type'] extends 'list'
        ? string[]
        : string;

/** The parsed values of a table declared `as const satisfies readonly Setting[]`, keyed by name. */
export type Settings<T extends readonly Setting[]> = {
  [S in T[number] as S['name']]: S extends { readonly default: unknown } | { readonly repeatable: true } ? ValueOf<S> : ValueOf<S> | undefined;
};

export type Env = Readonly<Record<string, string | undefined>>;

export const TRUE_WORDS = ['1', 'true', 'yes', 'on'] as const;
export const FALSE_WORDS = ['0', 'false', 'no', 'off'] as const;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * The LOG_LEVEL row every process's table carries, so the level comes from the config reader.
 * A table that takes flags renames it in place: `{ ...logLevelSetting(), name: 'log-level' }`.
 */
export function logLevelSetting() {
  return { name: 'logLevel', env: ENV.logLevel, type: 'string', default: 'info', choices: LOG_LEVELS, help: 'pino log level.' } as const;
}

/**
 * Parses `env` (and `argv`, when given) against `table`. Without `argv` the process takes no
 * flags (API, worker); with it, unknown flags are refused with a pointer to --help, and a
 * boolean flag given bare (`--leader-elect`) means true (`--leader-elect=false` turns it off).
 * Bare arguments are refused unless `positional` settings take them.
 */
export function parseSettings<const T extends readonly Setting[]>(table: T, env: Env, argv?: readonly string[]): Settings<T> {
  const flags = argv ? parseFlags(table, argv) : {};
  const out: Record<string, unknown> = {};
  for (const s of table) {
    if (s.repeatable) {
      out[s.name] = repeatedValues(s, flags, env);
      continue;
    }
    const given = source(s, flags, env);
    out[s.name] = given ? convert(s, given.raw, given.label) : s.type === 'list' && Array.isArray(s.default) ? [...(s.default as string[])] : s.default;
  }
  return out as Settings<T>;
}

/**
 * Refuses a configuration in which none of several alternative variables is set, with one
 * message shape for the whole platform: `set A or B: why`.
 */
export function requireOneOf(values: Readonly<Record<string, string | undefined>>, why: string): void {
  if (Object.values(values).some((v) => v !== undefined && v !== '')) return;
  throw new ConfigError(`set ${Object.keys(values).join(' or ')}: ${why}`);
}

export interface HelpOptions {
  /** Lines before the table: what the process does and how to start it. */
  intro: readonly string[];
  /** true: rows are --flags (with their env); false: rows are environment variables. */
  flags: boolean;
  /** Lines after the table. */
  footer?: readonly string[];
}

/** --help text: every setting with its flag or variable, help, default and allowed range. */
export function helpText(table: readonly Setting[], options: HelpOptions): string {
  const left = (s: Setting): string =>
    options.flags ? `  ${s.short ? `-${s.short}, ` : ''}--${s.name}${s.type === 'boolean' ? '' : ' <value>'}` : `  ${s.env}`;
  const rows = table.filter((s) => options.flags || s.env !== '');
  const width = Math.max(...rows.map((s) => left(s).length)) + 2;
  const lines = rows.map((s) => {
    const meta = [
      options.flags && s.repeatable ? 'repeatable' : '',
      options.flags && s.positional ? `or as bare argument ${positionalIndex(rows, s)}` : '',
      options.flags && s.env ? `env ${s.env}` : '',
      s.fallbackEnv ? `else ${s.fallbackEnv}` : '',
      describeDefault(s),
      describeAllowed(s),
    ]
      .filter(Boolean)
      .join(', ');
    return `${left(s).padEnd(width)}${s.help}${meta ? ` (${meta})` : ''}`;
  });
  const heading = options.flags ? 'Flags (each also read from the environment variable shown; a flag wins):' : 'Environment:';
  return [...options.intro, '', heading, ...lines, ...(options.footer?.length ? ['', ...options.footer] : [])].join('\n');
}

function positionalIndex(table: readonly Setting[], s: Setting): number {
  return table.filter((x) => x.positional).indexOf(s) + 1;
}

function describeDefault(s: Setting): string {
  if (s.defaultHelp) return `default ${s.defaultHelp}`;
  if (s.default === undefined || s.default === '' || (Array.isArray(s.default) && s.default.length === 0) || (s.type === 'boolean' && s.env === '')) return '';
  const value = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
  return `default ${value}${s.unit && s.type !== 'string' ? ` ${s.unit}` : ''}`;
}

function describeAllowed(s: Setting): string {
  if (s.choices) return `one of ${s.choices.join(', ')}`;
  if (s.type !== 'integer' && s.type !== 'number') return '';
  if (s.min === undefined && s.max === undefined) return s.unit && s.default === undefined ? s.unit : '';
  return range(s);
}

function range(s: Setting): string {
  if (s.min !== undefined && s.max !== undefined) return `between ${s.min} and ${s.max}`;
  if (s.min !== undefined) return `at least ${s.min}`;
  if (s.max !== undefined) return `at most ${s.max}`;
  return '';
}

type Flags = Record<string, string | string[] | undefined>;

function parseFlags(table: readonly Setting[], argv: readonly string[]): Flags {
  // Every flag is parsed as a string so "--leader-elect=false" works; a bare boolean flag (or its
  // one-letter alias) becomes "--name=true".
  const options = Object.fromEntries(
    table.map((s) => [s.name, { type: 'string' as const, multiple: s.repeatable === true, ...(s.short ? { short: s.short } : {}) }]),
  );
  const bareBoolean = (a: string, s: Setting): boolean => s.type === 'boolean' && (a === `--${s.name}` || (s.short !== undefined && a === `-${s.short}`));
  const normalized = argv.map((a) => {
    const s = table.find((x) => bareBoolean(a, x));
    return s ? `--${s.name}=true` : a;
  });
  const positional = table.filter((s) => s.positional);
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({ args: normalized, options, strict: true, allowPositionals: positional.length > 0 });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\nRun with --help for the list of flags.`);
  }
  const flags = { ...parsed.values };
  const bare = [...parsed.positionals];
  // Bare arguments fill the positional settings in table order; a setting given as a flag takes none.
  for (const s of positional) {
    if (flags[s.name] !== undefined) continue;
    const value = bare.shift();
    if (value !== undefined) flags[s.name] = value;
  }
  if (bare.length > 0) throw new ConfigError(`Unexpected argument "${bare[0]}"\nRun with --help for the list of flags.`);
  return flags;
}

function source(s: Setting, flags: Flags, env: Env): { raw: string; label: string } | undefined {
  const flag = flags[s.name];
  if (typeof flag === 'string') return { raw: flag, label: `--${s.name}` };
  for (const name of [s.env, s.fallbackEnv]) {
    if (!name) continue;
    const value = env[name];
    if (value !== undefined && value !== '') return { raw: value, label: name };
  }
  return undefined;
}

/** Every value of a repeatable flag, else its variable as one value, else the default, else []. */
function repeatedValues(s: Setting, flags: Flags, env: Env): string[] {
  const given = flags[s.name];
  if (Array.isArray(given) && given.length > 0) return given.map((raw) => convert(s, raw, `--${s.name}`) as string);
  const fromEnv = source(s, {}, env);
  if (fromEnv) return [convert(s, fromEnv.raw, fromEnv.label) as string];
  return Array.isArray(s.default) ? [...(s.default as string[])] : [];
}

// One converter per setting type; each throws a ConfigError that names where the value came from.
const CONVERTERS: Record<SettingType, (s: Setting, raw: string, label: string) => unknown> = {
  string: convertString,
  list: convertList,
  boolean: convertBoolean,
  integer: convertNumber,
  number: convertNumber,
};

function convert(s: Setting, raw: string, label: string): unknown {
  return CONVERTERS[s.type](s, raw, label);
}

function convertString(s: Setting, raw: string, label: string): string {
  if (s.choices && !s.choices.includes(raw)) throw new ConfigError(`${label} must be one of ${s.choices.join(', ')}; got "${raw}"`);
  return raw;
}

function convertList(_s: Setting, raw: string): string[] {
  return raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function convertBoolean(_s: Setting, raw: string, label: string): boolean {
  const word = raw.toLowerCase();
  if ((TRUE_WORDS as readonly string[]).includes(word)) return true;
  if ((FALSE_WORDS as readonly string[]).includes(word)) return false;
  throw new ConfigError(`${label} must be true or false, got "${raw}"`);
}

/** integer and number settings: the value must parse, be whole for integers, and lie within [min, max]. */
function convertNumber(s: Setting, raw: string, label: string): number {
  const n = raw.trim() === '' ? NaN : Number(raw);
  const ok = (s.type === 'integer' ? Number.isInteger(n) : Number.isFinite(n)) && (s.min === undefined || n >= s.min) && (s.max === undefined || n <= s.max);
  if (ok) return n;
  const what = s.type === 'integer' ? 'an integer' : 'a number';
  const bounds = range(s);
  throw new ConfigError(`${label} must be ${what}${bounds ? ` ${bounds}` : ''}${s.unit ? ` (${s.unit})` : ''}, got "${raw}"`);
}
