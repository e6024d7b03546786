/**
 * Dev mode's keys persist in `.data/dev.env` beside `.data/temporal.db`: with the database kept and the
 * file gone, new keys would leave every request unreadable and the tenants' credentials sealed for good.
 */
import { describe, expect, it } from 'vitest';
import { assertKeysOfTheDb } from '../../src/cli/dev-env.js';

const kept = { DSAR_ID_KEY: 'a'.repeat(64), DSAR_ENCRYPTION_KEYS: 'dev1:key', DSAR_CREDENTIALS_KEY: 'devcred1:key' };

describe('dev mode keys and its database', () => {
  it('refuses new keys for a database written with others, saying how to go on', () => {
    expect(() => assertKeysOfTheDb({}, true)).toThrow(
      /temporal\.db was written with the keys kept in \.data\/dev\.env, and dev\.env lacks DSAR_ID_KEY, DSAR_ENCRYPTION_KEYS: .*Restore \.data\/dev\.env, or move the database aside .*mv \.data\/temporal\.db/,
    );
    expect(() => assertKeysOfTheDb({ DSAR_ID_KEY: kept.DSAR_ID_KEY }, true)).toThrow(/lacks DSAR_ENCRYPTION_KEYS:/);
  });

  it('makes keys for a fresh start, and the credentials key for a dev.env from before tenants', () => {
    expect(() => assertKeysOfTheDb({}, false)).not.toThrow();
    expect(() => assertKeysOfTheDb(kept, true)).not.toThrow();
    const { DSAR_CREDENTIALS_KEY: _added, ...beforeTenants } = kept;
    expect(() => assertKeysOfTheDb(beforeTenants, true)).not.toThrow();
  });
});
