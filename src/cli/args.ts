/**
 * Per-command options for `dsar`: each command declares its own options, and node:util's parseArgs
 * (strict) parses them, so an option another command takes (`dsar list --email x`) is refused with
 * the command's valid ones instead of being silently ignored. The same declaration prints the
 * command's `--help`.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help, e.g. `<iso>`. */
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** As typed after `dsar` (`erase`, `tenant show`). */
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** Usage lines without the leading `dsar `; default: the name, its arguments and `[options]`. */
  usage?: readonly string[];
  /** The positional arguments the command takes, e.g. `['<workflow-id>']`; none by default. */
  args?: readonly string[];
  /** What to say instead of the default when arguments are given to a command that takes none. */
  noArgs?: string;
  options: O;
  /** Paragraphs after the options. */
  details?: string;
}

export type Values<O extends OptionSpecs> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

export interface Parsed<O extends OptionSpecs> {
  values: Values<O> & { help?: boolean };
  positionals: string[];
}

/** The command line does not fit the command: exit code 2, with the message and a pointer to --help. */
export class ArgsError extends Error {
  override name = 'ArgsError';
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'print this help' };

/**
 * An option name is echoed only when it looks like one: someone may type the address as a flag
 * (`--jane@example.com`), and error output must never carry it.
 */
const SHOWABLE_OPTION = /^-{1,2}[A-Za-z0-9][\w-]{0,40}$/;
const show = (arg: string) => (SHOWABLE_OPTION.test(arg) ? `'${arg}'` : '(not shown: it is not an option name)');

export function parseCommand<O extends OptionSpecs>(spec: CommandSpec<O>, argv: string[]): Parsed<O> {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, help: HELP }).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
  );
  // A first pass that accepts anything finds every unknown option by name (the strict pass below
  // stops at the first, and its message suggests `--` tricks that do not apply here).
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const unknown = [...new Set(tokens.filter((t) => t.kind === 'option' && !(t.name in options)).map((t) => (t.kind === 'option' ? t.rawName : '')))];
  if (unknown.length) {
    const what = unknown.length === 1 ? `Unknown option ${show(unknown[0]!)}` : `Unknown options ${unknown.map(show).join(', ')}`;
    throw new ArgsError(`${what} for dsar ${spec.name}. Its options: ${optionNames(spec).join(', ')} (dsar ${spec.name} --help).`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Missing values and values on switches; Node names the option, never the value.
    throw new ArgsError(`${err instanceof Error ? err.message : String(err)} (dsar ${spec.name} --help).`);
  }
  const values = parsed.values as Values<O> & { help?: boolean };
  const max = spec.args?.length ?? 0;
  if (!values.help && parsed.positionals.length > max) {
    // Arguments are not echoed: a misplaced address would be printed back.
    if (max === 0) throw new ArgsError(spec.noArgs ?? `dsar ${spec.name} takes no arguments, only options (dsar ${spec.name} --help).`);
    throw new ArgsError(
      `dsar ${spec.name} takes ${max === 1 ? 'one argument' : `${max} arguments`}, ${spec.args!.join(' ')}; got ${parsed.positionals.length} (dsar ${spec.name} --help).`,
    );
  }
  return { values, positionals: parsed.positionals };
}

function optionNames(spec: CommandSpec): string[] {
  return [...Object.keys(spec.options), 'help'].map((k) => `--${k}`);
}

export function commandHelp(spec: CommandSpec): string {
  const usage = spec.usage ?? [[spec.name, ...(spec.args ?? []), Object.keys(spec.options).length ? '[options]' : ''].filter(Boolean).join(' ')];
  const rows = Object.entries({ ...spec.options, help: HELP }).map(
    ([k, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${k}${o.value ? ` ${o.value}` : ''}`, o.help] as const,
  );
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length)) + 2);
  const lines = [
    `dsar ${spec.name}: ${spec.summary}`,
    '',
    'Usage:',
    // A line that starts with spaces continues the one above it.
    ...usage.map((u) => (u.startsWith(' ') ? `       ${u}` : `  dsar ${u}`)),
    '',
    'Options:',
    ...rows.map(([left, help]) => (left.length + 2 > width ? `  ${left}\n  ${' '.repeat(width)}${help}` : `  ${left.padEnd(width)}${help}`)),
  ];
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}

/** The list of commands for `dsar --help`: name and arguments, then the summary. */
export function commandList(specs: readonly { name: string; args?: readonly string[]; summary: string }[]): string {
  const rows = specs.map((s) => [[s.name, ...(s.args ?? [])].join(' '), s.summary] as const);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, summary]) => `  ${left.padEnd(width)}${summary}`).join('\n');
}
