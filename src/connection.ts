/**
 * Temporal connection settings, read as the `temporal` CLI reads them (@temporalio/envconfig): the
 * profile TEMPORAL_PROFILE names (else "default") from the TOML file TEMPORAL_CONFIG_FILE names (else
 * the CLI's own temporalio/temporal.toml in the user config directory), then the TEMPORAL_* variables
 * over it. A local dev server, a self-hosted cluster with (m)TLS, or Temporal Cloud with an API key;
 * shared by the worker and every client.
 *
 * envconfig passes most values through unchecked (a missing cert file is a bare ENOENT, `TLS=yes`
 * silently turns TLS off), so what it returns is checked here: a bad value stops start-up with the
 * variable or profile key named, never its value (an API key, a private key).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ClientConfigTLS, type ConfigDataSource } from '@temporalio/envconfig';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  /** gRPC headers sent with every call (TEMPORAL_GRPC_META_*, a profile's grpc_meta). */
  metadata?: Record<string, string>;
}

/** Where and how to reach Temporal: for NativeConnection.connect (worker) and Connection.connect (clients). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** TEMPORAL_PROFILE, when set (for logs). */
  profile?: string;
  connection: TemporalConnectionOptions;
}

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** The variables envconfig reads for the connection, handed over by name (never the whole environment). */
const ENVCONFIG_VARIABLES = [
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  // Where the default config file is (os.UserConfigDir's inputs).
  'HOME',
  'XDG_CONFIG_HOME',
  'APPDATA',
] as const;

const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

/** The three PEM inputs of TLS: envconfig's field, our variables, the profile's keys. */
const TLS_FILES = [
  { field: 'clientCert', variable: 'TEMPORAL_TLS_CLIENT_CERT', key: 'client_cert', what: 'client certificate' },
  { field: 'clientKey', variable: 'TEMPORAL_TLS_CLIENT_KEY', key: 'client_key', what: 'client key' },
  { field: 'serverCACert', variable: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'server_ca_cert', what: 'server CA certificate' },
] as const;

/** As the CLI (sdk-go envconfig) writes a header name: lower case, every `_` a `-` (envconfig 1.24 replaces only the first). */
function normalizeHeaderName(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Our booleans: the CLI's 1/0/true/false in any case, plus yes/no; anything else is an error, not "off". */
function parseBool(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  return undefined;
}

function isHostPort(text: string): boolean {
  if (!/^(\[[0-9a-f:.]+\]|[\w.-]+):\d{1,5}$/i.test(text)) return false;
  const port = Number(text.slice(text.lastIndexOf(':') + 1));
  return port >= 1 && port <= 65535;
}

/** smol-toml's TomlError (envconfig's parser), whose message quotes the file, secrets and all. */
function tomlPosition(err: unknown): { line: number; column: number; reason: string } | undefined {
  if (!(err instanceof Error) || !('line' in err) || !('column' in err) || typeof err.line !== 'number' || typeof err.column !== 'number') return undefined;
  const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
  return { line: err.line, column: err.column, reason };
}

/**
 * The Temporal settings from `env` and the config file, or the problems found (each starts with the
 * variable or `profile "<name>" <key>` at fault). Empty variables count as unset, as everywhere in
 * our configuration; TEMPORAL_GRPC_META_X= (empty) still removes header x from the profile, as in the CLI.
 */
export function loadTemporalSettings(
  env: Record<string, string | undefined>,
): { settings: TemporalSettings; problems: [] } | { settings?: undefined; problems: string[] } {
  const problems: string[] = [];
  const given = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const vars: Record<string, string> = {};
  for (const name of ENVCONFIG_VARIABLES) {
    const v = given(name);
    if (v !== undefined) vars[name] = v;
  }
  // envconfig reads only "1"/"true" as on, and anything else (TRUE, yes, a typo) as off.
  const tlsText = given('TEMPORAL_TLS');
  if (tlsText !== undefined) {
    const on = parseBool(tlsText);
    if (on === undefined) problems.push('TEMPORAL_TLS must be true or false');
    else vars.TEMPORAL_TLS = String(on);
  }
  // The TypeScript SDK cannot skip host verification, and envconfig drops the setting without a word.
  const skipVerify = given('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION');
  if (skipVerify !== undefined && parseBool(skipVerify) !== false) {
    problems.push(
      "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK: name the certificate's host with TEMPORAL_TLS_SERVER_NAME, or its CA with TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    );
  }

  const file = vars.TEMPORAL_CONFIG_FILE;
  const fileText = file ? `TEMPORAL_CONFIG_FILE (${file})` : 'the Temporal config file (temporalio/temporal.toml in the user config directory)';
  // The CLI ignores a config file that is not there; a service told to read one should say so.
  if (file && !existsSync(file)) return { problems: [...problems, `TEMPORAL_CONFIG_FILE names ${file}, which does not exist`] };
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  /** Who set a value: the variable if it is set (it wins over the file), else the profile's key. */
  const source = (variable: string, key: string) => (vars[variable] !== undefined ? variable : `profile "${profileName}" ${key}`);

  let profile: ClientConfigProfile;
  try {
    // loadClientConnectConfig in two steps (loadClientConfigProfile, then toClientOptions), checking in between.
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    const toml = tomlPosition(err);
    const message = err instanceof Error ? err.message : String(err);
    const both = /Cannot specify both (\w+)_path and \1_data/.exec(message);
    const tlsFile = TLS_FILES.find((f) => f.key === both?.[1]);
    if (toml) problems.push(`${fileText} is not valid TOML: ${toml.reason} (line ${toml.line}, column ${toml.column})`);
    else if (/^Profile '.*' not found/.test(message))
      problems.push(`TEMPORAL_PROFILE names profile "${profileName}", which ${fileText} does not define (or the file does not exist)`);
    else if (tlsFile)
      problems.push(
        `${tlsFile.variable}_PATH and ${tlsFile.variable}_DATA (or the profile's ${tlsFile.key}_path and ${tlsFile.key}_data) are both set: give the ${tlsFile.what} one way`,
      );
    else problems.push(`${fileText} could not be read: ${message}`);
    return { problems };
  }

  // TOML gives whatever types the file holds; envconfig casts them.
  const text = (value: unknown, variable: string, key: string): string | undefined => {
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string') return value;
    problems.push(`${source(variable, key)} must be a string`);
    return undefined;
  };
  const address = text(profile.address, 'TEMPORAL_ADDRESS', 'address') ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!isHostPort(address))
    problems.push(`${source('TEMPORAL_ADDRESS', 'address')} must be host:port, e.g. localhost:7233 or [::1]:7233 (a port between 1 and 65535)`);
  const namespace = text(profile.namespace, 'TEMPORAL_NAMESPACE', 'namespace') ?? DEFAULT_TEMPORAL_NAMESPACE;
  const apiKey = text(profile.apiKey, 'TEMPORAL_API_KEY', 'api_key');
  const tls = checkTls(profile.tls, source, problems);
  const metadata = grpcMetadata(profile.grpcMeta, env, profileName, problems);
  if (apiKey && metadata && 'authorization' in metadata) {
    problems.push(
      `${source('TEMPORAL_API_KEY', 'api_key')} and an authorization header (TEMPORAL_GRPC_META_AUTHORIZATION or grpc_meta) are both set: the API key is sent as that header, so use one`,
    );
  }
  if (problems.length) return { problems };

  // envconfig's rule for TLS, the CLI's too: on with any TLS setting or an API key, unless TLS is disabled.
  const { connectionOptions } = toClientOptions({ address, namespace, apiKey, tls });
  const connection: TemporalConnectionOptions = { address };
  if (connectionOptions.tls !== undefined && connectionOptions.tls !== null) connection.tls = connectionOptions.tls;
  if (apiKey) connection.apiKey = apiKey;
  if (metadata && Object.keys(metadata).length) connection.metadata = metadata;
  const settings: TemporalSettings = { address, namespace, connection };
  if (vars.TEMPORAL_PROFILE) settings.profile = vars.TEMPORAL_PROFILE;
  return { settings, problems: [] };
}

/** Reads the PEM files now (a missing one is named at start-up, not at the first connect) and checks the pair. */
function checkTls(tls: ClientConfigTLS | undefined, source: (variable: string, key: string) => string, problems: string[]): ClientConfigTLS | undefined {
  if (tls === undefined) return undefined;
  if (tls.disabled !== undefined && typeof tls.disabled !== 'boolean') problems.push(`${source('TEMPORAL_TLS', 'tls.disabled')} must be true or false`);
  // TLS off: the files are not used, so not read (as before envconfig).
  if (tls.disabled === true) return { disabled: true };
  const out: ClientConfigTLS = { ...tls };
  const sources: Partial<Record<(typeof TLS_FILES)[number]['field'], string>> = {};
  if (tls.serverName !== undefined && typeof tls.serverName !== 'string')
    problems.push(`${source('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name')} must be a string`);
  if (tls.serverName === '') delete out.serverName;
  for (const f of TLS_FILES) {
    const from: ConfigDataSource | undefined = tls[f.field];
    if (from === undefined) continue;
    const byPath = 'path' in from;
    const where = byPath ? source(`${f.variable}_PATH`, `tls.${f.key}_path`) : source(`${f.variable}_DATA`, `tls.${f.key}_data`);
    sources[f.field] = where;
    let pem: Buffer;
    if (byPath) {
      if (typeof from.path !== 'string') {
        problems.push(`${where} must be a string`);
        continue;
      }
      try {
        pem = readFileSync(from.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push(`${where} names ${from.path}, which cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
        continue;
      }
    } else {
      pem = typeof from.data === 'string' ? Buffer.from(from.data) : Buffer.from(from.data);
    }
    // Core takes PEM only; without this a wrong file fails at connect with a TLS error naming nothing.
    if (!pem.toString('latin1').includes('-----BEGIN ')) {
      problems.push(`${where} must ${byPath ? 'name a PEM file' : 'hold PEM text'} (-----BEGIN …-----), the ${f.what}`);
      continue;
    }
    out[f.field] = { data: new Uint8Array(pem) };
  }
  // mTLS needs both halves; envconfig would drop a lone one and connect without a client certificate.
  if (sources.clientCert && !sources.clientKey) {
    problems.push(
      `${sources.clientCert} is set without TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA, or the profile's tls.client_key_path): mTLS needs the certificate's key`,
    );
  } else if (sources.clientKey && !sources.clientCert) {
    problems.push(
      `${sources.clientKey} is set without TEMPORAL_TLS_CLIENT_CERT_PATH (or _DATA, or the profile's tls.client_cert_path): mTLS needs the certificate too`,
    );
  }
  return out;
}

/** The profile's grpc_meta, then TEMPORAL_GRPC_META_* over it (an empty one removes the header), as the CLI does. */
function grpcMetadata(
  fromProfile: Record<string, string> | undefined,
  env: Record<string, string | undefined>,
  profileName: string,
  problems: string[],
): Record<string, string> | undefined {
  const meta = new Map<string, { value: unknown; source: string }>();
  for (const [name, value] of Object.entries(fromProfile ?? {}))
    meta.set(normalizeHeaderName(name), { value, source: `profile "${profileName}" grpc_meta.${name}` });
  for (const variable of Object.keys(env)
    .filter((k) => k.startsWith(GRPC_META_PREFIX))
    .sort()) {
    const name = normalizeHeaderName(variable.slice(GRPC_META_PREFIX.length));
    const value = env[variable];
    if (value === '' || value === undefined) meta.delete(name);
    else meta.set(name, { value, source: variable });
  }
  if (meta.size === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [name, { value, source }] of meta) {
    if (!/^[0-9a-z][0-9a-z.-]*$/.test(name)) problems.push(`${source} is not a gRPC header name: letters, digits, - and . only`);
    else if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) problems.push(`${source} must be printable ASCII (a gRPC header value)`);
    else out[name] = value;
  }
  return out;
}
