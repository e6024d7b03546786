import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';

describe('the one logger', () => {
  it('writes one JSON object per line with ts, level, msg and the fields, from its level up', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'INFO', write: (l) => lines.push(l), base: { service: 'intake' } });
    log.debug('not shown');
    log.info('intake request', { status: 200, big: 10n, err: new Error('boom') });
    log.error('failed');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'INFO', msg: 'intake request', service: 'intake', status: 200, big: '10', err: { name: 'Error', message: 'boom' } });
    expect(new Date(first.ts).toISOString()).toBe(first.ts);
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'ERROR', msg: 'failed' });
  });

  it('writes a short human line in pretty format', () => {
    const lines: string[] = [];
    createLogger({ format: 'pretty', write: (l) => lines.push(l) }).warn('slow', { ms: 5 });
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[WARN\] slow \{"ms":5\}$/);
  });
});
