/**
 * The one logger of our processes (worker, intake, codec server): JSON lines by default, which log
 * shippers (Loki, CloudWatch, Datadog) parse without rules, or a short human line in dev
 * (DSAR_LOG_FORMAT=pretty). It has the shape of Temporal's Logger, so the worker's SDK runtime logs
 * through it too. No Node-only import beyond process: it is small and has no dependencies.
 */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';
export type LogMeta = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, message: string, meta?: LogMeta): void;
  trace(message: string, meta?: LogMeta): void;
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
}

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go; default stdout. */
  write?: (line: string) => void;
  /** Fields on every line (e.g. the service name). */
  base?: LogMeta;
}

const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message } : v);

export function formatLogLine(format: LogFormat, at: Date, level: LogLevel, message: string, meta: LogMeta = {}): string {
  if (format === 'json') return JSON.stringify({ ts: at.toISOString(), level, msg: message, ...meta }, replacer);
  const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta, replacer)}` : '';
  return `${at.toISOString()} [${level}] ${message}${rest}`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'json';
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'INFO');
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const log = (level: LogLevel, message: string, meta?: LogMeta) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    write(formatLogLine(format, new Date(), level, message, { ...options.base, ...meta }));
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
