/** zod schemas for the simulator's options, seeds and admin request bodies. */
import { z } from 'zod';
import { isTimeSpec } from './time.js';
import { ALL_PERMISSIONS, CANDIDATE_STATUSES, type SimulatorPermission } from './types.js';

const timeSpec = z.string().refine(isTimeSpec, {
  message: 'expected an ISO date/time or a relative offset such as "+90s", "+5m", "+2h", "-3d" or "now"',
});

export const permissionSchema = z.enum(ALL_PERMISSIONS as unknown as [SimulatorPermission, ...SimulatorPermission[]]);

export const stepSeedSchema = z.strictObject({
  name: z.string().min(1),
  type: z.string().min(1),
  time_scheduled: timeSpec.nullable().optional(),
  time_completed: timeSpec.nullable().optional(),
  duration_minutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .optional(),
});

const optionalText = z.string().nullable().optional();

export const candidateSeedSchema = z
  .strictObject({
    uid: z.string().trim().min(1).max(64).optional(),
    person_uid: z.string().trim().min(1).max(64).optional(),
    position_uid: z.string().trim().min(1).max(64).optional(),
    first_name: z.string().min(1),
    middle_name: z.string().optional(),
    last_name: z.string().min(1),
    email: optionalText,
    phone: optionalText,
    mobile_phone: optionalText,
    linkedin_url: optionalText,
    status: z.enum(CANDIDATE_STATUSES).optional(),
    source: z.enum(['other', 'app']).optional(),
    source_contact: z.strictObject({ full_name: z.string().min(1), email: z.string().min(1), phone: z.string().optional() }).optional(),
    current_steps: z.array(stepSeedSchema).optional(),
    completed_steps: z.array(stepSeedSchema).optional(),
    future_steps: z.array(stepSeedSchema).optional(),
    time_created: timeSpec.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.current_steps && c.current_steps.length > 0 && c.status !== undefined && c.status !== 'In progress') {
      ctx.addIssue({
        code: 'custom',
        path: ['current_steps'],
        message: `must be empty unless status is 'In progress' (status is '${c.status}')`,
      });
    }
  });

export const faultsSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  errorStatus: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  dropRate: z.number().min(0).max(1).optional(),
  rateLimitBurst: z.number().int().min(0).optional(),
});

export const rateLimitSchema = z.strictObject({
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1),
});

export const seedSchema = z.object({
  candidates: z.array(candidateSeedSchema),
  positions: z.array(z.string().trim().min(1)).optional(),
});

export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const accountIdSchema = z
  .string()
  .regex(ACCOUNT_ID_PATTERN, { message: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" });

export const environmentSchema = z.enum(['sandbox', 'production']);

export const apiKeySchema = z.strictObject({ apiKey: z.string().min(1), secret: z.string().min(1) });

export const accountOptionsSchema = z
  .strictObject({
    id: accountIdSchema,
    environment: environmentSchema.optional(),
    apiKey: z.string().min(1).optional(),
    secret: z.string().min(1).optional(),
    keys: z.array(apiKeySchema).min(1).optional(),
    permissions: z.array(permissionSchema).optional(),
    rateLimit: rateLimitSchema.nullable().optional(),
    faults: faultsSchema.optional(),
    seed: seedSchema.optional(),
  })
  .superRefine((a, ctx) => {
    const single = a.apiKey !== undefined || a.secret !== undefined;
    if (single && a.keys !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keys'], message: 'give either apiKey and secret or keys, not both' });
    } else if (!single && a.keys === undefined) {
      ctx.addIssue({ code: 'custom', path: ['apiKey'], message: 'an account needs apiKey and secret (or keys)' });
    } else if (single && (a.apiKey === undefined || a.secret === undefined)) {
      ctx.addIssue({ code: 'custom', path: [a.apiKey === undefined ? 'apiKey' : 'secret'], message: 'apiKey and secret go together' });
    }
  });

const fnSchema = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `expected a function (${what})` });

export const optionsSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  apiKey: z.string().min(1),
  secret: z.string().min(1),
  accountId: accountIdSchema.optional(),
  environment: environmentSchema.optional(),
  accounts: z.array(accountOptionsSchema).optional(),
  permissions: z.array(permissionSchema).optional(),
  rateLimit: rateLimitSchema.nullable().optional(),
  retryAfter: z.boolean().optional(),
  pageSize: z.number().int().min(1).max(10_000).optional(),
  emailFilter: z.enum(['exact', 'contains', 'ignored']).optional(),
  findDuplicates: z.boolean().optional(),
  listShape: z.enum(['object', 'array']).optional(),
  readWithoutPermission: z.enum(['omit', 'forbid']).optional(),
  pseudonymizeKeepsEmail: z.boolean().optional(),
  faults: faultsSchema.optional(),
  seed: seedSchema.optional(),
  random: fnSchema<() => number>('() => number').optional(),
  log: fnSchema<(line: string) => void>('(line: string) => void').optional(),
});

// Admin route bodies.
export const permissionsBodySchema = z.strictObject({ permissions: z.array(permissionSchema) });
export const clockAdvanceBodySchema = z.strictObject({
  ms: z
    .number()
    .min(0)
    .max(10 * 365 * 86_400_000),
});
export const rateLimitBodySchema = z.strictObject({ rateLimit: rateLimitSchema.nullable() });
export const scheduleBodySchema = z.strictObject({
  at: timeSpec,
  durationMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .optional(),
});

/** `candidates[3].first_name` style path for an issue. */
function formatPath(path: readonly PropertyKey[], prefix: string): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** One line naming every bad field, e.g. `seed.candidates[2].email: Invalid input: expected string`. */
export function formatZodError(error: z.ZodError, prefix = ''): string {
  return error.issues.map((i) => `${formatPath(i.path, prefix)}: ${i.message}`).join('; ');
}

/** Parses with `schema` or throws an Error whose message starts with `what` and names the bad fields. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string, prefix = ''): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${what}: ${formatZodError(result.error, prefix)}`);
  return result.data;
}
