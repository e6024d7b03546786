/**
 * Configuration from plain env objects (never process.env): defaults, every problem named at once,
 * and never the offending value (it may be a secret).
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  deploymentVersionFromConfig,
  loadClientConfig,
  loadCodecConfig,
  loadComeetConfig,
  loadIntakeConfig,
  loadWorkerConfig,
  parseDuration,
  tuningFromConfig,
  type Env,
} from '../src/config.js';

const ENC = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const WORKER_MIN: Env = {
  DSAR_ENCRYPTION_KEYS: ENC,
  COMEET_BASE_URL: 'https://api.comeet.co',
  COMEET_API_KEY: 'acct-key-123',
  COMEET_SECRET: 'integration-secret-456',
};
const ID_KEY = '0123456789abcdef0123456789abcdef';
const CLIENT_MIN: Env = { DSAR_ID_KEY: ID_KEY, DSAR_ENCRYPTION_KEYS: ENC };

/** The ConfigError `load` throws; fails the test when it returns. */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

/** The problem lines naming `name`. */
function about(err: ConfigError, name: string): string[] {
  return err.problems.filter((p) => p.startsWith(`${name} `));
}

describe('loadWorkerConfig', () => {
  it('fills the defaults from a minimal env', () => {
    expect(loadWorkerConfig(WORKER_MIN)).toEqual({
      DSAR_ENCRYPTION_KEYS: ENC,
      encryption: { keys: new Map([['k1', Buffer.alloc(32, 7)]]), currentKeyId: 'k1' },
      temporal: { address: 'localhost:7233', namespace: 'default', connection: { address: 'localhost:7233' } },
      TEMPORAL_TASK_QUEUE: 'comeet-dsar',
      COMEET_BASE_URL: 'https://api.comeet.co',
      COMEET_API_KEY: 'acct-key-123',
      COMEET_SECRET: 'integration-secret-456',
      COMEET_LOOKUP: 'candidates-filter',
      COMEET_PAGE_SIZE: 100,
      COMEET_TIMEOUT: 30_000,
      COMEET_CONNECTIONS: 4,
      COMEET_ALLOW_HTTP: false,
      COMEET_RATE_LIMIT_PER_MINUTE: 100,
      COMEET_RATE_PER_MINUTE: 96,
      DSAR_METRICS_BIND: '0.0.0.0:9464',
      DSAR_HEALTH_BIND: '0.0.0.0:8090',
      DSAR_LOG_FORMAT: 'json',
      DSAR_LOG_LEVEL: 'INFO',
      DSAR_MAX_CACHED_WORKFLOWS: 50,
      DSAR_DEPLOYMENT_NAME: 'comeet-dsar',
    });
  });

  it('runs unversioned unless DSAR_BUILD_ID names the build, and refuses names the server cannot take', () => {
    expect(deploymentVersionFromConfig(loadWorkerConfig(WORKER_MIN))).toBeUndefined();
    expect(deploymentVersionFromConfig(loadWorkerConfig({ ...WORKER_MIN, DSAR_BUILD_ID: '1.4.2+3f2a9c1' }))).toEqual({
      deploymentName: 'comeet-dsar',
      buildId: '1.4.2+3f2a9c1',
    });
    expect(deploymentVersionFromConfig(loadWorkerConfig({ ...WORKER_MIN, DSAR_BUILD_ID: 'v2', DSAR_DEPLOYMENT_NAME: 'dsar-eu' }))).toEqual({
      deploymentName: 'dsar-eu',
      buildId: 'v2',
    });
    // The SDK writes a version as <deployment>.<build id>: a dot in the name would be ambiguous.
    expect(() => loadWorkerConfig({ ...WORKER_MIN, DSAR_BUILD_ID: 'v2', DSAR_DEPLOYMENT_NAME: 'comeet.dsar' })).toThrow(
      /DSAR_DEPLOYMENT_NAME must be letters, digits, - and _ \(no dot/,
    );
    expect(() => loadWorkerConfig({ ...WORKER_MIN, DSAR_BUILD_ID: 'build 7' })).toThrow(/DSAR_BUILD_ID must start with a letter or digit/);
    expect(() => loadWorkerConfig({ ...WORKER_MIN, DSAR_BUILD_ID: '__unversioned__' })).toThrow(/DSAR_BUILD_ID must start with a letter or digit/);
    // Blank counts as unset, as for every variable: unversioned.
    expect(deploymentVersionFromConfig(loadWorkerConfig({ ...WORKER_MIN, DSAR_BUILD_ID: '' }))).toBeUndefined();
  });

  it('keeps the Comeet rate under the account limit, scaling the default with it', () => {
    expect(loadWorkerConfig({ ...WORKER_MIN, COMEET_RATE_LIMIT_PER_MINUTE: '1000' }).COMEET_RATE_PER_MINUTE).toBe(960);
    expect(loadWorkerConfig({ ...WORKER_MIN, COMEET_RATE_PER_MINUTE: '60' }).COMEET_RATE_PER_MINUTE).toBe(60);
    expect(() => loadWorkerConfig({ ...WORKER_MIN, COMEET_RATE_PER_MINUTE: '120' })).toThrow(
      /COMEET_RATE_PER_MINUTE must not exceed COMEET_RATE_LIMIT_PER_MINUTE \(100\)/,
    );
    expect(() => loadWorkerConfig({ ...WORKER_MIN, COMEET_RATE_PER_MINUTE: '1.5' })).toThrow(/COMEET_RATE_PER_MINUTE must be a whole number/);
  });

  it('reads callback, metrics and health settings, and turns the endpoints off', () => {
    const cfg = loadWorkerConfig({
      ...WORKER_MIN,
      DSAR_CALLBACK_SECRET: `${'a'.repeat(32)}, ${'b'.repeat(40)}`,
      DSAR_CALLBACK_HOSTS: 'hooks.example.com,.internal.example.com',
      DSAR_METRICS_BIND: 'off',
      DSAR_HEALTH_BIND: '127.0.0.1:9000',
      DSAR_LOG_FORMAT: 'pretty',
    });
    expect(cfg).toMatchObject({
      DSAR_CALLBACK_SECRET: ['a'.repeat(32), 'b'.repeat(40)],
      DSAR_CALLBACK_HOSTS: ['hooks.example.com', '.internal.example.com'],
      DSAR_METRICS_BIND: undefined,
      DSAR_HEALTH_BIND: '127.0.0.1:9000',
      DSAR_LOG_FORMAT: 'pretty',
    });
    const err = (() => {
      try {
        loadWorkerConfig({ ...WORKER_MIN, DSAR_CALLBACK_SECRET: 'short-secret-value', DSAR_METRICS_BIND: '9464', DSAR_LOG_FORMAT: 'xml' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/DSAR_CALLBACK_SECRET each secret must be at least 32 characters/);
    expect(err?.message).toMatch(/DSAR_METRICS_BIND must be host:port/);
    expect(err?.message).toMatch(/DSAR_LOG_FORMAT must be json or pretty/);
    expect(err?.message).not.toContain('short-secret-value');
  });

  it('reads the networks callbacks may reach besides public addresses, refusing anything but addresses and CIDRs', () => {
    expect(loadWorkerConfig({ ...WORKER_MIN, DSAR_CALLBACK_ALLOW_NETWORKS: '127.0.0.1/32, 10.20.0.0/16,fd00::/8,::1' }).DSAR_CALLBACK_ALLOW_NETWORKS).toEqual([
      '127.0.0.1/32',
      '10.20.0.0/16',
      'fd00::/8',
      '::1',
    ]);
    expect(loadWorkerConfig(WORKER_MIN).DSAR_CALLBACK_ALLOW_NETWORKS).toBeUndefined();
    for (const bad of ['10.0.0.0/33', 'sidecar.internal', '10.0.0/8']) {
      expect(
        about(
          configError(() => loadWorkerConfig({ ...WORKER_MIN, DSAR_CALLBACK_ALLOW_NETWORKS: bad })),
          'DSAR_CALLBACK_ALLOW_NETWORKS',
        ),
        bad,
      ).toEqual(['DSAR_CALLBACK_ALLOW_NETWORKS must list addresses or CIDR networks, e.g. 10.20.0.0/16,127.0.0.1/32,fd00::/8']);
    }
    const intake = loadIntakeConfig({
      ...CLIENT_MIN,
      DSAR_INTAKE_TOKENS: `svc:${'t'.repeat(32)}`,
      DSAR_CALLBACK_HOSTS: 'hooks.example.com',
      DSAR_CALLBACK_ALLOW_NETWORKS: '10.20.0.0/16',
    });
    expect(intake).toMatchObject({ DSAR_CALLBACK_HOSTS: ['hooks.example.com'], DSAR_CALLBACK_ALLOW_NETWORKS: ['10.20.0.0/16'] });
  });

  it('reads every variable it knows and ignores the rest', () => {
    const cfg = loadWorkerConfig({
      ...WORKER_MIN,
      COMEET_BASE_URL: 'http://127.0.0.1:8080/comeet',
      COMEET_ALLOW_HTTP: 'true',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'hr-prod',
      TEMPORAL_TASK_QUEUE: 'dsar-q',
      COMEET_LOOKUP: 'scan',
      COMEET_PAGE_SIZE: '25',
      COMEET_TIMEOUT: '45s',
      COMEET_CONNECTIONS: '2',
      UNRELATED: 'whatever',
    });
    expect(cfg).toMatchObject({
      COMEET_BASE_URL: 'http://127.0.0.1:8080/comeet',
      temporal: { address: 'temporal.internal:7233', namespace: 'hr-prod', connection: { address: 'temporal.internal:7233' } },
      TEMPORAL_TASK_QUEUE: 'dsar-q',
      COMEET_LOOKUP: 'scan',
      COMEET_PAGE_SIZE: 25,
      COMEET_TIMEOUT: 45_000,
      COMEET_CONNECTIONS: 2,
    });
    expect(cfg).not.toHaveProperty('UNRELATED');
  });

  it.each(['candidates-filter', 'find-duplicates', 'scan'])('accepts COMEET_LOOKUP=%s', (lookup) => {
    expect(loadWorkerConfig({ ...WORKER_MIN, COMEET_LOOKUP: lookup }).COMEET_LOOKUP).toBe(lookup);
  });

  it('accepts an IPv6 Temporal address and http to Comeet only when COMEET_ALLOW_HTTP says so', () => {
    expect(loadWorkerConfig({ ...WORKER_MIN, TEMPORAL_ADDRESS: '[::1]:7233' }).temporal.address).toBe('[::1]:7233');
    expect(loadClientConfig({ ...CLIENT_MIN, TEMPORAL_ADDRESS: '[2001:db8::5]:7233' }).temporal.connection.address).toBe('[2001:db8::5]:7233');
    const http = { ...WORKER_MIN, COMEET_BASE_URL: 'http://127.0.0.1:4010' };
    expect(
      about(
        configError(() => loadWorkerConfig(http)),
        'COMEET_BASE_URL',
      )[0],
    ).toMatch(/must use https.*COMEET_ALLOW_HTTP=true/);
    expect(
      about(
        configError(() => loadComeetConfig(http)),
        'COMEET_BASE_URL',
      )[0],
    ).toMatch(/must use https/);
    expect(loadWorkerConfig({ ...http, COMEET_ALLOW_HTTP: 'true' })).toMatchObject({ COMEET_BASE_URL: 'http://127.0.0.1:4010', COMEET_ALLOW_HTTP: true });
    expect(loadWorkerConfig(WORKER_MIN).COMEET_ALLOW_HTTP).toBe(false);
  });

  it.each(['COMEET_BASE_URL', 'COMEET_API_KEY', 'COMEET_SECRET'])('names a missing %s', (name) => {
    const env = { ...WORKER_MIN };
    delete env[name];
    const err = configError(() => loadWorkerConfig(env));
    expect(err.problems).toHaveLength(1);
    expect(about(err, name)).toHaveLength(1);
    expect(err.message).toContain(name);
    expect(err.message.startsWith('Invalid configuration:')).toBe(true);
  });

  it('lists every problem at once', () => {
    const err = configError(() => loadWorkerConfig({}));
    expect(err.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['COMEET_API_KEY', 'COMEET_BASE_URL', 'COMEET_SECRET', 'DSAR_ENCRYPTION_KEYS']);
    expect(about(err, 'COMEET_API_KEY')[0]).toContain('is required');
    expect(about(err, 'COMEET_SECRET')[0]).toContain('is required');
    for (const p of err.problems) expect(err.message).toContain(`  - ${p}`);
  });

  it('counts empty strings as unset: required ones are missing, optional ones take the default', () => {
    const err = configError(() =>
      loadWorkerConfig({ ...WORKER_MIN, COMEET_API_KEY: '', COMEET_SECRET: '', TEMPORAL_ADDRESS: '', COMEET_LOOKUP: '', COMEET_PAGE_SIZE: '' }),
    );
    expect(err.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['COMEET_API_KEY', 'COMEET_SECRET']);
    expect(about(err, 'COMEET_API_KEY')[0]).toContain('is required');

    const cfg = loadWorkerConfig({
      ...WORKER_MIN,
      TEMPORAL_ADDRESS: '',
      TEMPORAL_NAMESPACE: '',
      COMEET_LOOKUP: '',
      COMEET_PAGE_SIZE: '',
      COMEET_TIMEOUT: '',
      TEMPORAL_TLS: '',
      TEMPORAL_API_KEY: '',
    });
    expect(cfg).toMatchObject({
      temporal: { address: 'localhost:7233', namespace: 'default' },
      COMEET_LOOKUP: 'candidates-filter',
      COMEET_PAGE_SIZE: 100,
      COMEET_TIMEOUT: 30_000,
    });
    expect(cfg.temporal.connection).toEqual({ address: 'localhost:7233' });
  });

  it.each([
    ['COMEET_BASE_URL', 'not a url s3cr3t-value-xyz', 'must be a URL'],
    ['COMEET_BASE_URL', 'ftp://s3cr3t-value-xyz.example', 'must be a URL'],
    ['COMEET_BASE_URL', 'https://s3cr3t-value-xyz.comeet.co/v1', '/v1'],
    ['COMEET_BASE_URL', 'https://s3cr3t-value-xyz.comeet.co/v2/', '/v1'],
    ['COMEET_LOOKUP', 's3cr3t-value-xyz', 'candidates-filter, find-duplicates, scan'],
    ['TEMPORAL_ADDRESS', 's3cr3t-value-xyz', 'host:port'],
    ['TEMPORAL_ADDRESS', 's3cr3t-value-xyz:', 'host:port'],
    ['COMEET_PAGE_SIZE', 'abc-s3cr3t-value-xyz', 'whole number'],
    ['COMEET_PAGE_SIZE', '0', 'positive'],
    ['COMEET_CONNECTIONS', '-3', 'whole number'],
    ['COMEET_TIMEOUT', 's3cr3t-value-xyz', 'duration'],
    ['COMEET_SECRET', 's3cr3t', 'too short'],
    ['TEMPORAL_TLS', 's3cr3t-value-xyz', 'true or false'],
    ['COMEET_BASE_URL', 'http://s3cr3t-value-xyz.comeet.co', 'must use https'],
    ['COMEET_ALLOW_HTTP', 's3cr3t-value-xyz', 'true or false'],
    ['TEMPORAL_ADDRESS', 's3cr3t-value-xyz:99999', 'port between 1 and 65535'],
    ['TEMPORAL_ADDRESS', 's3cr3t-value-xyz:0', 'port between 1 and 65535'],
    ['DSAR_METRICS_BIND', 's3cr3t-value-xyz:99999', 'port between 1 and 65535'],
    ['DSAR_HEALTH_BIND', '0.0.0.0:70000', 'port between 1 and 65535'],
  ])('names a malformed %s (%s) without echoing the value', (name, value, hint) => {
    const err = configError(() => loadWorkerConfig({ ...WORKER_MIN, [name]: value }));
    expect(err.problems).toHaveLength(about(err, name).length);
    expect(about(err, name).length).toBeGreaterThanOrEqual(1);
    expect(err.message).toContain(hint);
    expect(err.message).not.toContain(value);
    expect(err.message).not.toContain('s3cr3t');
  });

  it('never echoes the other, valid secrets either', () => {
    const err = configError(() => loadWorkerConfig({ ...WORKER_MIN, COMEET_LOOKUP: 'nope' }));
    for (const v of Object.values(WORKER_MIN)) expect(err.message).not.toContain(v);
  });

  it('parses TEMPORAL_TLS and accepts TEMPORAL_API_KEY, which turns TLS on', () => {
    // envconfig alone reads only 1 and true as on: TRUE and yes would turn TLS off.
    for (const yes of ['true', 'TRUE', ' yes ', '1']) expect(loadWorkerConfig({ ...WORKER_MIN, TEMPORAL_TLS: yes }).temporal.connection.tls, yes).toEqual({});
    for (const no of ['false', 'False', 'no', '0']) expect(loadWorkerConfig({ ...WORKER_MIN, TEMPORAL_TLS: no }).temporal.connection.tls, no).toBe(false);
    expect(loadWorkerConfig(WORKER_MIN).temporal.connection.tls).toBeUndefined();
    const cfg = loadWorkerConfig({ ...WORKER_MIN, TEMPORAL_API_KEY: 'cloud-api-key-xyz', TEMPORAL_TLS: 'true', TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' });
    expect(cfg.temporal.connection).toMatchObject({ apiKey: 'cloud-api-key-xyz', tls: {}, address: 'ns.acct.tmprl.cloud:7233' });
    expect(loadClientConfig({ ...CLIENT_MIN, TEMPORAL_API_KEY: 'cloud-api-key-xyz' }).temporal.connection).toEqual({
      address: 'localhost:7233',
      apiKey: 'cloud-api-key-xyz',
      tls: true,
    });
    // The key turns TLS on unless TEMPORAL_TLS says off (a plaintext proxy in front of Cloud).
    expect(loadClientConfig({ ...CLIENT_MIN, TEMPORAL_API_KEY: 'cloud-api-key-xyz', TEMPORAL_TLS: 'false' }).temporal.connection.tls).toBe(false);
  });
});

describe('loadClientConfig', () => {
  it('fills the defaults from a minimal env and leaves the tuning unset', () => {
    expect(loadClientConfig(CLIENT_MIN)).toEqual({
      DSAR_ENCRYPTION_KEYS: ENC,
      encryption: { keys: new Map([['k1', Buffer.alloc(32, 7)]]), currentKeyId: 'k1' },
      temporal: { address: 'localhost:7233', namespace: 'default', connection: { address: 'localhost:7233' } },
      TEMPORAL_TASK_QUEUE: 'comeet-dsar',
      DSAR_ID_KEY: ID_KEY,
    });
  });

  it('does not need the Comeet variables', () => {
    expect(() => loadClientConfig(CLIENT_MIN)).not.toThrow();
  });

  it('names a missing (or empty) DSAR_ID_KEY', () => {
    for (const env of [{ DSAR_ENCRYPTION_KEYS: ENC }, { DSAR_ID_KEY: '', DSAR_ENCRYPTION_KEYS: ENC }]) {
      const err = configError(() => loadClientConfig(env));
      expect(err.problems).toHaveLength(1);
      expect(about(err, 'DSAR_ID_KEY')[0]).toContain('is required');
    }
  });

  it('names a short DSAR_ID_KEY and a malformed duration, all at once, without the values', () => {
    const err = configError(() =>
      loadClientConfig({
        DSAR_ENCRYPTION_KEYS: ENC,
        DSAR_ID_KEY: 's3cr3t-value-xyz',
        DSAR_FOLLOW_UP_DELAY: 'soon',
        DSAR_ATTENTION_RETRY: 'often-q7',
        TEMPORAL_ADDRESS: 'nohost-q8',
      }),
    );
    expect(err.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['DSAR_ATTENTION_RETRY', 'DSAR_FOLLOW_UP_DELAY', 'DSAR_ID_KEY', 'TEMPORAL_ADDRESS']);
    expect(about(err, 'DSAR_ID_KEY')[0]).toContain('at least 32 characters');
    expect(about(err, 'DSAR_FOLLOW_UP_DELAY')[0]).toContain('duration');
    for (const v of ['s3cr3t-value-xyz', 'soon', 'often-q7', 'nohost-q8']) expect(err.message).not.toContain(v);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['4h', 14_400_000],
    ['7d', 604_800_000],
    ['0', 0],
    ['250', 250],
    ['1.5s', 1500],
    [' 90s ', 90_000],
    ['2 h', 7_200_000],
  ])('%j → %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', 'soon', 's30', '30x', '-5s', '5w', '1h30m', '30sec', 'NaN', '.5s'])('%j → undefined', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('tuningFromConfig', () => {
  it('maps the DSAR_* durations onto tuning in milliseconds', () => {
    const cfg = loadClientConfig({ ...CLIENT_MIN, DSAR_FOLLOW_UP_DELAY: '7d', DSAR_ATTENTION_RETRY: '4h', DSAR_INTERVIEW_MARGIN: '90m' });
    expect(tuningFromConfig(cfg)).toEqual({ followUpDelayMs: 604_800_000, attentionRetryMs: 14_400_000, interviewMarginMs: 5_400_000 });
  });

  it('keeps 0 (follow-up off) and leaves unset knobs out', () => {
    expect(tuningFromConfig(loadClientConfig({ ...CLIENT_MIN, DSAR_FOLLOW_UP_DELAY: '0' }))).toEqual({ followUpDelayMs: 0 });
    expect(tuningFromConfig(loadClientConfig(CLIENT_MIN))).toEqual({});
    expect(tuningFromConfig(loadClientConfig({ ...CLIENT_MIN, DSAR_INTERVIEW_MARGIN: '500ms' }))).toEqual({ interviewMarginMs: 500 });
  });
});

describe('messages for missing or unsafe values', () => {
  it('says a missing COMEET_BASE_URL is required', () => {
    const { COMEET_BASE_URL: _omit, ...rest } = WORKER_MIN;
    const err = configError(() => loadWorkerConfig(rest));
    expect(about(err, 'COMEET_BASE_URL')[0]).toMatch(/^COMEET_BASE_URL is required/);
  });

  it('refuses COMEET_TIMEOUT=0, which would turn every timeout off', () => {
    const err = configError(() => loadWorkerConfig({ ...WORKER_MIN, COMEET_TIMEOUT: '0' }));
    expect(about(err, 'COMEET_TIMEOUT')[0]).toContain('at least 100ms');
    expect(loadWorkerConfig({ ...WORKER_MIN, COMEET_TIMEOUT: '5s' }).COMEET_TIMEOUT).toBe(5000);
  });
});

describe('encryption keys', () => {
  const key = (n: number) => Buffer.alloc(32, n).toString('base64');

  it('are required by the worker and by clients, naming the variable and how to make a key', () => {
    const { DSAR_ENCRYPTION_KEYS: _w, ...worker } = WORKER_MIN;
    expect(
      about(
        configError(() => loadWorkerConfig(worker)),
        'DSAR_ENCRYPTION_KEYS',
      )[0],
    ).toContain('openssl rand -base64 32');
    const { DSAR_ENCRYPTION_KEYS: _c, ...client } = CLIENT_MIN;
    expect(
      about(
        configError(() => loadClientConfig(client)),
        'DSAR_ENCRYPTION_KEYS',
      )[0],
    ).toContain('is required');
  });

  it('take several ids for rotation and encrypt with DSAR_ENCRYPTION_KEY_ID', () => {
    const cfg = loadClientConfig({ ...CLIENT_MIN, DSAR_ENCRYPTION_KEYS: `old:${key(1)}, new:${key(2)}`, DSAR_ENCRYPTION_KEY_ID: 'new' });
    expect([...cfg.encryption.keys.keys()]).toEqual(['old', 'new']);
    expect(cfg.encryption.currentKeyId).toBe('new');
  });

  it.each([
    ['a short key', `k1:${Buffer.alloc(16, 1).toString('base64')}`, undefined, 'must be 32 bytes'],
    ['no id', key(1), undefined, 'not id:base64key'],
    ['a repeated id', `k1:${key(1)},k1:${key(2)}`, undefined, 'listed twice'],
    ['an unknown current id', `k1:${key(1)}`, 'k9', 'DSAR_ENCRYPTION_KEY_ID "k9"'],
  ])('refuse %s without printing key material', (_what, keys, current, message) => {
    const err = configError(() => loadClientConfig({ ...CLIENT_MIN, DSAR_ENCRYPTION_KEYS: keys, DSAR_ENCRYPTION_KEY_ID: current }));
    expect(err.message).toContain(message);
    expect(err.message).not.toContain(key(1));
    expect(err.message).not.toContain(Buffer.alloc(16, 1).toString('base64'));
  });
});

describe('loadIntakeConfig', () => {
  it('needs named bearer tokens of 32+ characters and names the problem without the value', () => {
    expect(() => loadIntakeConfig(CLIENT_MIN)).toThrow(/DSAR_INTAKE_TOKENS is required: comma-separated name:token pairs/);
    const short = 'tooshort-token';
    expect(() => loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `billing:${short}` })).toThrow(
      /DSAR_INTAKE_TOKENS each token must be at least 32 characters/,
    );
    try {
      loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `billing:${short}` });
    } catch (e) {
      expect((e as Error).message).not.toContain(short);
    }
    // A bare token (the old form) is refused with the fix, without echoing it.
    const bare = configError(() => loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: 't'.repeat(32) }));
    expect(bare.message).toMatch(/DSAR_INTAKE_TOKENS entry 1 has no valid name: write name:token .*e\.g\. billing:<token>/);
    expect(bare.message).not.toContain('t'.repeat(32));
    expect(() => loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `a:${'t'.repeat(32)},a:${'u'.repeat(32)}` })).toThrow(/names the caller a twice/);
    const cfg = loadIntakeConfig({
      ...CLIENT_MIN,
      DSAR_INTAKE_TOKENS: `billing:${'t'.repeat(32)},hr-portal:${'u'.repeat(32)}`,
      DSAR_INTAKE_ADMIN_TOKENS: `dpo:${'v'.repeat(32)}`,
      DSAR_INTAKE_BIND: '127.0.0.1:9999',
    });
    expect(cfg).toMatchObject({
      DSAR_INTAKE_TOKENS: [
        { name: 'billing', token: 't'.repeat(32) },
        { name: 'hr-portal', token: 'u'.repeat(32) },
      ],
      DSAR_INTAKE_ADMIN_TOKENS: [{ name: 'dpo', token: 'v'.repeat(32) }],
      DSAR_INTAKE_DRY_RUNS_PER_HOUR: 20,
      DSAR_INTAKE_BIND: '127.0.0.1:9999',
      DSAR_ID_KEY: ID_KEY,
    });
    expect(loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `x:${'t'.repeat(32)}` }).DSAR_INTAKE_BIND).toBe('0.0.0.0:8088');
  });

  it('gives each caller token a tenant (name@tenant:token; none = default) and refuses a bad one or one on an admin token', () => {
    const cfg = loadIntakeConfig({
      ...CLIENT_MIN,
      DSAR_INTAKE_TOKENS: `billing:${'t'.repeat(32)},hr@acme:${'u'.repeat(32)},ops@default:${'w'.repeat(32)}`,
      DSAR_INTAKE_ADMIN_TOKENS: `dpo:${'v'.repeat(32)}`,
    });
    expect(cfg.DSAR_INTAKE_TOKENS).toEqual([
      { name: 'billing', token: 't'.repeat(32), tenant: 'default' },
      { name: 'hr', token: 'u'.repeat(32), tenant: 'acme' },
      { name: 'ops', token: 'w'.repeat(32), tenant: 'default' },
    ]);
    expect(cfg.DSAR_INTAKE_ADMIN_TOKENS).toEqual([{ name: 'dpo', token: 'v'.repeat(32) }]);
    for (const bad of ['Acme', 'a', '', '1acme', 'acme_co']) {
      const e = configError(() => loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `hr@${bad}:${'u'.repeat(32)}` }));
      expect(e.message).toMatch(/DSAR_INTAKE_TOKENS entry 1 \(hr\) has an invalid tenant after @: a tenant id is 2-31 characters/);
      expect(e.message).not.toContain('u'.repeat(32));
    }
    const admin = configError(() =>
      loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `x:${'t'.repeat(32)}`, DSAR_INTAKE_ADMIN_TOKENS: `dpo@acme:${'v'.repeat(32)}` }),
    );
    expect(admin.message).toMatch(/DSAR_INTAKE_ADMIN_TOKENS entry 1 \(dpo\) names a tenant: admin tokens read every tenant's requests/);
    // The name stays unique across tenants: it is what requests and logs record.
    expect(() => loadIntakeConfig({ ...CLIENT_MIN, DSAR_INTAKE_TOKENS: `hr@acme:${'t'.repeat(32)},hr@globex:${'u'.repeat(32)}` })).toThrow(
      /names the caller hr twice/,
    );
  });
});

describe('loadCodecConfig', () => {
  const CODEC_MIN: Env = { DSAR_ENCRYPTION_KEYS: ENC, DSAR_CODEC_TOKEN: 'codec-token-0123456789abcdef' };

  it('listens on loopback :8081 for the Web UI on :8233 by default', () => {
    const c = loadCodecConfig(CODEC_MIN);
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8081, corsOrigins: ['http://localhost:8233'], token: CODEC_MIN.DSAR_CODEC_TOKEN });
    expect(c.encryption.currentKeyId).toBe('k1');
  });

  it('takes DSAR_CODEC_BIND, and still reads DSAR_CODEC_HOST / DSAR_CODEC_PORT without it', () => {
    expect(loadCodecConfig({ ...CODEC_MIN, DSAR_CODEC_BIND: '0.0.0.0:9091', DSAR_CODEC_PORT: '7000' })).toMatchObject({ host: '0.0.0.0', port: 9091 });
    expect(loadCodecConfig({ ...CODEC_MIN, DSAR_CODEC_HOST: '0.0.0.0', DSAR_CODEC_PORT: '8082' })).toMatchObject({ host: '0.0.0.0', port: 8082 });
    expect(loadCodecConfig({ ...CODEC_MIN, DSAR_CODEC_CORS_ORIGINS: 'http://a:1, http://b:2' }).corsOrigins).toEqual(['http://a:1', 'http://b:2']);
  });

  it('says what to fix', () => {
    const problems = (env: Env) => {
      try {
        loadCodecConfig(env);
      } catch (err) {
        return err instanceof ConfigError ? err.problems : [String(err)];
      }
      return [];
    };
    expect(problems({ DSAR_ENCRYPTION_KEYS: ENC })).toEqual(['DSAR_CODEC_TOKEN is required: a secret of 24+ characters operators use']);
    expect(problems({ ...CODEC_MIN, DSAR_CODEC_TOKEN: 'short' })).toEqual(['DSAR_CODEC_TOKEN must be at least 24 characters']);
    expect(problems({ ...CODEC_MIN, DSAR_CODEC_BIND: 'localhost' })[0]).toMatch(/^DSAR_CODEC_BIND must be host:port/);
    expect(problems({ ...CODEC_MIN, DSAR_CODEC_PORT: 'x' })).toEqual(['DSAR_CODEC_PORT must be a port number']);
  });
});
