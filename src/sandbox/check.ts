/**
 * `dsar sandbox-check`: the full erasure flow on a SANDBOX account before go-live (source document
 * 000, steps 4-5). It writes: it creates a test candidate with the customer's test email, finds it
 * with every lookup strategy, erases the person, checks it is gone and erases it once more, and
 * reports what Comeet answered at each step (the API's open questions, see comeet-api.md).
 *
 * Erasure acts on the whole person: if Comeet joins the new candidate to an existing person with the
 * same email, that person's other candidates are erased too (the report names them). Run it only on
 * a sandbox, with a test email the customer provided for that purpose.
 */
import { z } from 'zod';
import {
  ComeetNotFoundError,
  ComeetEmailsHiddenError,
  ComeetPermissionError,
  LOOKUP_STRATEGIES,
  type ComeetCandidate,
  type ComeetClient,
  type EraseMode,
  type LookupStrategy,
} from '../comeet/index.js';
import {
  CallCounter,
  PERMISSIONS,
  POSITIONS_ADVICE,
  REVOKE_HINT,
  authVerdict,
  createVerdict,
  eraseVerdict,
  errorSummary,
  errorText,
  isPageLimit,
  lookupFailure,
} from './advice.js';
import { attempt, callsFinding, makeContext, plural, recommendLookup, sleep, type Outcome } from './common.js';
import { DOCTOR_PROBE_EMAIL } from './doctor.js';
import { ReportBuilder, type CheckReport } from './report.js';

export interface SandboxCheckOptions {
  client: ComeetClient;
  positionUid: string;
  testEmail: string;
  mode: EraseMode;
  log?: (line: string) => void;
  /** Counts calls when the client was built with its `onCall`; adds costs to the report. */
  calls?: CallCounter;
  /**
   * When no strategy returns the new candidate at first (Comeet may index it a little later), wait
   * this long and look once more. Default 5 s; 0 turns the second look off.
   */
  lookupRetryDelayMs?: number;
  /** Longest single wait on a 429 before giving up (default 90 s). */
  maxRateLimitWaitMs?: number;
  /** Clock for the partner_candidate_id (default Date.now). */
  now?: () => number;
}

export const TEST_CANDIDATE_NAME = { first_name: 'DSAR', last_name: 'Sandbox Test' } as const;

const PAST: Record<EraseMode, string> = { delete: 'deleted', pseudonymize: 'pseudonymized' };
const ERASE_ENDPOINT: Record<EraseMode, string> = { delete: 'DELETE /person/:uid', pseudonymize: 'POST /person/:uid/pseudonymize' };

/** The full flow on a SANDBOX account before go-live (source document 000 steps 4-5). */
export async function runSandboxCheck(opts: SandboxCheckOptions): Promise<CheckReport> {
  const email = opts.testEmail.trim();
  const position = opts.positionUid.trim();
  const { client, mode } = opts;
  if (!z.email().safeParse(email).success) throw new TypeError('runSandboxCheck: testEmail must be an email address');
  if (position === '') throw new TypeError('runSandboxCheck: positionUid must not be empty');
  if (mode !== 'delete' && mode !== 'pseudonymize') throw new TypeError('runSandboxCheck: mode must be delete or pseudonymize');

  const ctx = makeContext(opts);
  const r = new ReportBuilder();
  const titles = {
    auth: 'Authenticate with COMEET_API_KEY and COMEET_SECRET at COMEET_BASE_URL',
    create: `Create a test candidate on position ${position} (POST /candidates)`,
    lookup: 'Find the test candidate by its email with each lookup strategy',
    erase: `${mode === 'delete' ? 'Delete' : 'Pseudonymize'} the test person (${ERASE_ENDPOINT[mode]})`,
    verify: `Lookups no longer return the test person after the ${mode}`,
    repeat: `Repeat the ${mode} on the same person`,
  } as const;
  type Step = keyof typeof titles;
  const order: Step[] = ['auth', 'create', 'lookup', 'erase', 'verify', 'repeat'];
  const skipFrom = (step: Step, why: string) => {
    for (const s of order.slice(order.indexOf(step))) r.skip(s, titles[s], why);
  };
  const finish = () => {
    const f = callsFinding(ctx);
    if (f) r.find(...f);
    r.find(
      'not checked',
      `that ALL positions are shared with the integration, and the recommended permission "${PERMISSIONS.sourceContactDetails}" (see dsar doctor)`,
    );
    return r.build();
  };

  // 1. Authenticate: a lookup of an address nobody has.
  ctx.log('Authenticating (GET /candidates?email=<probe address>)');
  const first = await attempt(ctx, () => client.findCandidatesByEmail(DOCTOR_PROBE_EMAIL, { strategy: 'candidates-filter' }));
  const auth = authVerdict(first.ok ? undefined : first.error);
  r.add({ id: 'auth', title: titles.auth, ...auth });
  if (auth.status === 'fail') {
    r.find('auth', errorSummary(first.ok ? undefined : first.error));
    skipFrom('create', 'not run: authentication failed');
    return finish();
  }

  // 2. Create the test candidate. The email goes only into the email field.
  const partnerId = `comeet-dsar-sandbox-${(opts.now ?? Date.now)()}`;
  ctx.log(`Creating a test candidate on position ${position} (partner_candidate_id ${partnerId})`);
  const created = await attempt(ctx, () =>
    client.createCandidate({
      position_uid: position,
      ...TEST_CANDIDATE_NAME,
      email,
      partner_candidate_id: partnerId,
      note: 'Test candidate of comeet-dsar sandbox-check: the same run erases it.',
    }),
  );
  if (!created.ok) {
    r.add({ id: 'create', title: titles.create, ...createVerdict(created.error, position) });
    r.find('create', errorSummary(created.error));
    skipFrom('lookup', 'not run: no test candidate');
    return finish();
  }
  const cand = created.value;
  r.add({
    id: 'create',
    title: titles.create,
    status: 'pass',
    detail: `created candidate ${cand.uid}${cand.person_uid ? ` of person ${cand.person_uid}` : ''} (partner_candidate_id ${partnerId})`,
  });
  r.find('test candidate', `${cand.uid} (person ${cand.person_uid ?? 'not in the create answer'}, partner_candidate_id ${partnerId})`);
  ctx.log(`Created candidate ${cand.uid}${cand.person_uid ? ` of person ${cand.person_uid}` : ''}`);

  // 3. Find it with each strategy.
  const lookupAll = async (strategies: readonly LookupStrategy[], into: Map<LookupStrategy, Outcome<ComeetCandidate[]>>) => {
    for (const s of strategies) {
      ctx.log(`Looking up the test email with ${s}`);
      into.set(s, await attempt(ctx, () => client.findCandidatesByEmail(email, { strategy: s })));
    }
  };
  const found = new Map<LookupStrategy, Outcome<ComeetCandidate[]>>();
  await lookupAll(LOOKUP_STRATEGIES, found);
  const finds = (o: Outcome<ComeetCandidate[]> | undefined) => o?.ok === true && o.value.some((c) => c.uid === cand.uid);
  const retryDelay = opts.lookupRetryDelayMs ?? 5_000;
  if (!LOOKUP_STRATEGIES.some((s) => finds(found.get(s))) && retryDelay > 0) {
    const answered = LOOKUP_STRATEGIES.filter((s) => found.get(s)?.ok);
    if (answered.length > 0) {
      ctx.log(`No strategy returned the new candidate; looking once more in ${Math.ceil(retryDelay / 1000)} s`);
      await sleep(retryDelay);
      await lookupAll(answered, found);
    }
  }
  const works = LOOKUP_STRATEGIES.filter((s) => finds(found.get(s)));
  const costly = new Set<LookupStrategy>();
  const lines: string[] = [];
  for (const s of LOOKUP_STRATEGIES) {
    const o = found.get(s)!;
    const cost = o.calls === undefined ? '' : ` (${plural(o.calls, 'call')})`;
    let text: string;
    if (finds(o)) {
      text = `finds the test candidate${cost}`;
      if (s === 'candidates-filter' && o.calls !== undefined && o.calls > 1) {
        costly.add(s);
        text += '; the filter seems ignored (it paged like a scan)';
      }
    } else if (o.ok) {
      text = `answers${cost}, but without the test candidate`;
    } else if (isPageLimit(o.error)) {
      text = 'stopped at the page limit without finding it';
    } else {
      text = `does not work: ${lookupFailure(o.error).detail}`;
    }
    lines.push(`${s}: ${text}`);
    r.find(`lookup.${s}`, text);
  }
  const recommended = recommendLookup(works, costly);
  r.find('lookup.works', works.join(', ') || 'none');
  r.find('lookup.recommended', recommended ? `COMEET_LOOKUP=${recommended}` : 'none: no strategy finds the test candidate');
  if (works.length === 0) {
    const denied = LOOKUP_STRATEGIES.map((s) => found.get(s)!).find(
      (o) => !o.ok && (o.error instanceof ComeetPermissionError || o.error instanceof ComeetEmailsHiddenError),
    );
    r.add({
      id: 'lookup',
      title: titles.lookup,
      status: 'fail',
      detail: `no strategy returns the candidate just created:\n${lines.join('\n')}`,
      fix:
        (denied && !denied.ok ? `${lookupFailure(denied.error).fix}; ` : '') +
        `grant "${PERMISSIONS.readOtherSources}" and "${PERMISSIONS.readOwnSource}" (this check's candidate is created by ` +
        `the integration itself, so Comeet counts your app as its source; ${REVOKE_HINT}), and ${POSITIONS_ADVICE}`,
    });
  } else if (!works.includes(client.lookup)) {
    r.add({
      id: 'lookup',
      title: titles.lookup,
      status: 'warn',
      detail: `found by ${works.join(', ')}, but not by the configured COMEET_LOOKUP=${client.lookup}:\n${lines.join('\n')}`,
      fix: `set COMEET_LOOKUP=${recommended}`,
    });
  } else {
    r.add({ id: 'lookup', title: titles.lookup, status: 'pass', detail: `found by ${works.join(', ')}:\n${lines.join('\n')}` });
  }

  // Who else answers to the test email (all results are exact email matches).
  const seen = new Map<string, ComeetCandidate>();
  for (const o of found.values()) if (o.ok) for (const c of o.value) seen.set(c.uid, c);
  const personUid = cand.person_uid ?? seen.get(cand.uid)?.person_uid ?? undefined;
  const others = [...seen.values()].filter((c) => c.uid !== cand.uid);
  const samePerson = others.filter((c) => personUid !== undefined && c.person_uid === personUid).map((c) => c.uid);
  const otherPersons = others.filter((c) => personUid === undefined || c.person_uid !== personUid).map((c) => c.uid);
  if (samePerson.length > 0) {
    r.find(
      'same person',
      `${plural(samePerson.length, 'other candidate')} with the test email belong to the test person and are erased with it: ${samePerson.join(', ')}`,
    );
  }
  if (otherPersons.length > 0) {
    r.find(
      'other persons',
      `${plural(otherPersons.length, 'other candidate')} with the test email belong to other persons and are left alone: ${otherPersons.join(', ')}`,
    );
  }

  // 4. Erase the person.
  if (personUid === undefined) {
    r.add({
      id: 'erase',
      title: titles.erase,
      status: 'fail',
      detail: 'Comeet gave no person_uid for the test candidate, and no lookup returned one: the erasure endpoints take a person uid',
      fix: `grant "${PERMISSIONS.readOtherSources}" and "${PERMISSIONS.readOwnSource}" and run the check again; delete the test candidate ${cand.uid} in Comeet by hand`,
    });
    r.find('left in the sandbox', `candidate ${cand.uid}`);
    skipFrom('verify', 'not run: nothing was erased');
    return finish();
  }
  ctx.log(`${mode === 'delete' ? 'Deleting' : 'Pseudonymizing'} person ${personUid}`);
  const erased = await attempt(ctx, () => client.erasePerson(personUid, mode));
  if (!erased.ok) {
    r.add({ id: 'erase', title: titles.erase, ...eraseVerdict(erased.error, mode) });
    r.find('erase', errorSummary(erased.error));
    r.find(
      'left in the sandbox',
      `candidate ${cand.uid} of person ${personUid}: run the check again once fixed (the rerun erases the whole test person), or delete it in Comeet`,
    );
    skipFrom('verify', 'not run: the erase failed');
    return finish();
  }
  const result = erased.value;
  const listed = result.candidateUids.includes(cand.uid);
  r.add({
    id: 'erase',
    title: titles.erase,
    status: listed ? 'pass' : 'warn',
    detail:
      `${ERASE_ENDPOINT[mode]} answered 200: ${plural(result.count, 'candidate')} ${PAST[mode]} (${result.candidateUids.join(', ') || 'none listed'})` +
      (listed ? '' : `; the answer does not list the test candidate ${cand.uid}`),
    ...(listed ? {} : { fix: 'check the verification below; if the test candidate is still there, report it to Comeet support' }),
  });
  r.find('erase', `200, ${plural(result.count, 'candidate')} ${PAST[mode]}`);
  if (works.length === 0) r.find('erased by', 'the person uid from the create answer (no lookup found the candidate)');

  // 5. Verify absence with the strategies that found it, and read the candidate by uid.
  const after = new Map<LookupStrategy, Outcome<ComeetCandidate[]>>();
  for (const s of works) {
    ctx.log(`Checking ${s} no longer returns the test person`);
    after.set(s, await attempt(ctx, () => client.findCandidatesByEmail(email, { strategy: s })));
  }
  ctx.log(`Reading candidate ${cand.uid} (GET /candidates/:uid)`);
  const read = await attempt(ctx, () => client.getCandidate(cand.uid));
  const stillReturned: LookupStrategy[] = [];
  const lookupErrors: string[] = [];
  const verifyLines: string[] = [];
  for (const s of works) {
    const o = after.get(s)!;
    if (!o.ok) {
      lookupErrors.push(`${s}: ${errorText(o.error)}`);
      verifyLines.push(`${s}: ${errorSummary(o.error)}`);
      continue;
    }
    const still = o.value.some((c) => c.uid === cand.uid || c.person_uid === personUid);
    if (still) stillReturned.push(s);
    verifyLines.push(`${s}: ${still ? 'still returns it' : 'no longer returns it'}`);
  }
  r.find(`after ${mode}.lookups`, verifyLines.length > 0 ? verifyLines.join('; ') : 'not checked (no strategy found the candidate before)');
  r.find(`after ${mode}.read by uid`, describeRead(read));
  const readLive = mode === 'delete' && read.ok && read.value.deleted !== true;
  if (works.length === 0) {
    r.skip('verify', titles.verify, 'no lookup strategy found the test candidate before the erase, so none can show it gone');
  } else if (stillReturned.length > 0 || lookupErrors.length > 0 || readLive) {
    const problems: string[] = [];
    if (stillReturned.length > 0)
      problems.push(`${stillReturned.join(', ')} still return${stillReturned.length === 1 ? 's' : ''} the ${PAST[mode]} test person by its email`);
    if (readLive) problems.push('GET /candidates/:uid still returns the candidate as not deleted');
    problems.push(...lookupErrors);
    r.add({
      id: 'verify',
      title: titles.verify,
      status: 'fail',
      detail: problems.join('\n'),
      fix:
        stillReturned.length > 0 && mode === 'pseudonymize'
          ? "Comeet's pseudonymization keeps the email, so the worker would find the person again, re-erase and then fail its verification: change the company's pseudonymization settings in Comeet so they remove the email, or erase in delete mode"
          : lookupErrors.length > 0 && stillReturned.length === 0 && !readLive
            ? 'a lookup failed after the erase: run the check again'
            : 'the worker would re-erase and then fail its verification: report to Comeet support that erased candidates are still returned',
    });
  } else {
    r.add({ id: 'verify', title: titles.verify, status: 'pass', detail: `${works.join(', ')} no longer return${works.length === 1 ? 's' : ''} it` });
  }

  // 6. Erase again: what does Comeet answer for a person already erased?
  ctx.log(`Repeating the ${mode} on person ${personUid}`);
  const again = await attempt(ctx, () => client.erasePerson(personUid, mode));
  if (again.ok) {
    const text = `200 (${plural(again.value.count, 'candidate')} ${PAST[mode]} again)`;
    r.add({ id: 'repeat', title: titles.repeat, status: 'pass', detail: `answered ${text}: harmless for the worker` });
    r.find('repeat erase', text);
  } else if (again.error instanceof ComeetNotFoundError) {
    r.add({
      id: 'repeat',
      title: titles.repeat,
      status: 'pass',
      detail: `answered ${errorSummary(again.error)}: the worker counts a 404 after its own erase as already gone`,
    });
    r.find('repeat erase', errorSummary(again.error));
  } else {
    r.add({
      id: 'repeat',
      title: titles.repeat,
      status: 'warn',
      detail: `answered ${errorText(again.error)}`,
      fix: 'the worker expects 200 or 404 when it repeats an erase (after a lost answer): tell the comeet-dsar maintainers what Comeet answered',
    });
    r.find('repeat erase', errorSummary(again.error));
  }
  return finish();
}

function describeRead(read: Outcome<ComeetCandidate>): string {
  if (!read.ok) return `GET /candidates/:uid answers ${errorSummary(read.error)}`;
  const c = read.value;
  if (c.deleted === true) return 'GET /candidates/:uid answers 200 {uid, deleted: true}';
  const name = c.first_name === TEST_CANDIDATE_NAME.first_name && c.last_name === TEST_CANDIDATE_NAME.last_name ? 'kept' : 'replaced';
  return `GET /candidates/:uid answers 200, candidate still there (deleted: ${String(c.deleted ?? 'absent')}); email ${c.email ? 'kept' : 'removed'}, name ${name}`;
}
