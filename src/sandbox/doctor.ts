/**
 * `dsar doctor`: a read-only health check of the Comeet integration, safe on production. It only
 * sends GETs: a lookup of a probe address nobody has, once per lookup strategy, and one page of
 * candidates to see whether they carry their email.
 */
import { ComeetEmailsHiddenError, LOOKUP_STRATEGIES, type ComeetCandidate, type ComeetClient, type LookupStrategy } from '../comeet/index.js';
import { CallCounter, PERMISSIONS, POSITIONS_ADVICE, REVOKE_HINT, authVerdict, errorSummary, isPageLimit, lookupFailure } from './advice.js';
import { attempt, callsFinding, makeContext, plural, recommendLookup, type Outcome, type RunContext } from './common.js';
import { ReportBuilder, type CheckReport } from './report.js';

/** Matches no one: `.invalid` is a reserved top-level domain. */
export const DOCTOR_PROBE_EMAIL = 'comeet-dsar-doctor-probe@example.invalid';

export const LOOKUP_ENDPOINTS: Record<LookupStrategy, string> = {
  'candidates-filter': 'GET /candidates?email=',
  'find-duplicates': 'GET /sourcing/candidates/find_duplicates?email=',
  scan: 'GET /candidates, every page',
};

export interface DoctorOptions {
  client: ComeetClient;
  probeEmail?: string;
  log?: (line: string) => void;
  /** Counts calls when the client was built with its `onCall`; adds costs to the report. */
  calls?: CallCounter;
  /** Longest single wait on a 429 before giving up (default 90 s). */
  maxRateLimitWaitMs?: number;
}

/** Read-only health check against any environment (production included): never writes to Comeet. */
export async function runDoctor(opts: DoctorOptions): Promise<CheckReport> {
  const { client } = opts;
  const ctx = makeContext(opts);
  const probe = opts.probeEmail ?? DOCTOR_PROBE_EMAIL;
  const r = new ReportBuilder();

  ctx.log('Authenticating: looking up a probe address that matches no one (GET /candidates?email=…)');
  const first = await attempt(ctx, () => client.findCandidatesByEmail(probe, { strategy: 'candidates-filter' }));
  const auth = authVerdict(first.ok ? undefined : first.error);
  r.add({ id: 'auth', title: 'Authenticate with COMEET_API_KEY and COMEET_SECRET at COMEET_BASE_URL', ...auth });
  r.find('auth', first.ok ? 'ok' : errorSummary(first.error));
  if (auth.status === 'fail') {
    for (const s of LOOKUP_STRATEGIES) r.skip(`lookup.${s}`, `Lookup strategy ${s} (${LOOKUP_ENDPOINTS[s]})`, 'not tried: authentication failed');
    r.skip('lookup.configured', `Configured lookup COMEET_LOOKUP=${client.lookup}`, 'not tried: authentication failed');
    addCalls(r, ctx);
    return r.build();
  }

  const outcomes = new Map<LookupStrategy, Outcome<ComeetCandidate[]>>([['candidates-filter', first]]);
  for (const s of LOOKUP_STRATEGIES) {
    if (outcomes.has(s)) continue;
    ctx.log(`Trying lookup strategy ${s} (${LOOKUP_ENDPOINTS[s]})`);
    outcomes.set(s, await attempt(ctx, () => client.findCandidatesByEmail(probe, { strategy: s })));
  }

  const works: LookupStrategy[] = [];
  const costly = new Set<LookupStrategy>();
  for (const s of LOOKUP_STRATEGIES) {
    const o = outcomes.get(s)!;
    const title = `Lookup strategy ${s} (${LOOKUP_ENDPOINTS[s]})`;
    const cost = o.calls === undefined ? '' : ` (${plural(o.calls, 'call')})`;
    if (o.ok || isPageLimit(o.error)) {
      works.push(s);
      if (!o.ok) {
        costly.add(s);
        r.add({
          id: `lookup.${s}`,
          title,
          status: 'warn',
          detail:
            s === 'scan'
              ? 'answers, but reading every candidate runs past the page limit: each lookup would cost that many of the 100 calls a minute'
              : 'answers, but pages on past the page limit for an address nobody has: Comeet seems to ignore this filter, so each lookup costs a full scan (the client still keeps only exact email matches)',
          fix: 'prefer another strategy that answers cheaply, if any (see lookup.recommended)',
        });
        r.find(`lookup.${s}`, 'answers, but past the page limit (costly)');
      } else if (s === 'candidates-filter' && o.calls !== undefined && o.calls > 1) {
        costly.add(s);
        r.add({
          id: `lookup.${s}`,
          title,
          status: 'warn',
          detail: `answers, but took ${plural(o.calls, 'call')} for an address nobody has: Comeet seems to ignore the email filter, so each lookup costs a full scan (the client still keeps only exact email matches)`,
          fix: 'prefer another strategy that answers cheaply, if any (see lookup.recommended)',
        });
        r.find(`lookup.${s}`, `answers${cost}, filter apparently ignored`);
      } else {
        r.add({ id: `lookup.${s}`, title, status: 'pass', detail: `answers${cost}` });
        r.find(`lookup.${s}`, `answers${cost}`);
      }
    } else {
      const f = lookupFailure(o.error);
      r.add({ id: `lookup.${s}`, title, status: 'warn', detail: f.detail, fix: f.fix ?? `do not set COMEET_LOOKUP=${s}` });
      r.find(`lookup.${s}`, `does not answer: ${errorSummary(o.error)}`);
    }
  }

  const recommended = recommendLookup(works, costly);
  r.find('lookup.works', works.join(', ') || 'none');
  r.find('lookup.configured', `COMEET_LOOKUP=${client.lookup}`);
  r.find(
    'lookup.recommended',
    recommended ? `COMEET_LOOKUP=${recommended} (confirm with dsar sandbox-check: it shows which strategy finds a real candidate)` : 'none answers',
  );

  const configured = client.lookup;
  const configuredOutcome = outcomes.get(configured)!;
  const configuredTitle = `Configured lookup COMEET_LOOKUP=${configured}`;
  if (works.includes(configured)) {
    if (costly.has(configured) && recommended !== undefined && recommended !== configured) {
      r.add({ id: 'lookup.configured', title: configuredTitle, status: 'warn', detail: 'answers, but costly here', fix: `set COMEET_LOOKUP=${recommended}` });
    } else {
      r.add({ id: 'lookup.configured', title: configuredTitle, status: 'pass', detail: 'answers' });
    }
  } else {
    const f = configuredOutcome.ok ? undefined : lookupFailure(configuredOutcome.error);
    r.add({
      id: 'lookup.configured',
      title: configuredTitle,
      status: 'fail',
      detail: `the strategy the worker uses ${f ? f.detail : 'does not answer'}: every erasure would stop in needs_attention`,
      fix: f?.fix ?? (recommended ? `set COMEET_LOOKUP=${recommended}` : 'no strategy answers: see the lookups above'),
    });
  }

  // What a read-only check cannot see, but an erasure depends on.
  r.add({
    id: 'positions',
    title: 'All positions shared with the integration (not checkable read-only)',
    status: 'warn',
    detail: 'the API does not say which positions the integration may see',
    fix: POSITIONS_ADVICE,
  });
  r.add({
    id: 'permissions',
    title: `Permissions "${PERMISSIONS.readOtherSources}" and "${PERMISSIONS.erasePersons}" (not checkable read-only)`,
    status: 'warn',
    detail:
      'a missing read permission may silently hide candidates, and the erase permission only shows on an erase; dsar sandbox-check exercises both in the sandbox',
    fix: `make sure the admin approved "${PERMISSIONS.readOtherSources}" and "${PERMISSIONS.erasePersons}" (${REVOKE_HINT})`,
  });
  // One page of candidates shows whether Comeet sends their emails: without them no lookup can
  // prove anybody absent, so the worker parks every request (ComeetEmailsHidden).
  ctx.log('Reading one page of candidates to see whether they carry their email (GET /candidates)');
  const sample = await attempt(ctx, () => client.readLookupPage(probe, client.startLookup('scan')));
  const hidden = [sample, ...outcomes.values()].find((o) => !o.ok && o.error instanceof ComeetEmailsHiddenError);
  const sourceContactTitle = `Recommended permission "${PERMISSIONS.sourceContactDetails}"`;
  const sourceContactFix = `ask the admin to include "${PERMISSIONS.sourceContactDetails}" in the approved set (${REVOKE_HINT})`;
  if (hidden || (sample.ok && sample.value.progress.seen > 0 && sample.value.progress.withoutEmail === sample.value.progress.seen)) {
    const n = hidden && !hidden.ok ? (hidden.error as ComeetEmailsHiddenError).candidatesWithoutEmail : sample.ok ? sample.value.progress.seen : 0;
    r.add({
      id: 'source-contact',
      title: sourceContactTitle,
      status: 'fail',
      detail: `Comeet returns candidates without their email (${plural(n, 'candidate')} seen without one): the permission is missing, lookups cannot tell who the subject is, and every erasure would stop in needs_attention`,
      fix: sourceContactFix,
    });
    r.find('source-contact', 'candidates come without email');
  } else if (sample.ok && sample.value.progress.seen > 0) {
    r.add({ id: 'source-contact', title: sourceContactTitle, status: 'pass', detail: 'candidates come with their email' });
    r.find('source-contact', `${plural(sample.value.progress.seen - sample.value.progress.withoutEmail, 'candidate')} of the first page with an email`);
  } else {
    r.add({
      id: 'source-contact',
      title: `${sourceContactTitle} (not checkable: ${sample.ok ? 'no candidates to look at' : `GET /candidates ${errorSummary(sample.error)}`})`,
      status: 'warn',
      detail: 'without it Comeet leaves email addresses out of candidate objects, and no lookup by email can prove anybody absent',
      fix: sourceContactFix,
    });
  }
  addCalls(r, ctx);
  return r.build();
}

export function addCalls(r: ReportBuilder, ctx: RunContext): void {
  const f = callsFinding(ctx);
  if (f) r.find(...f);
}
