/**
 * zod schemas for what Comeet sends back. They accept what the API documents and a little slack
 * where it is unknown (numeric uids, nulls), and reject anything we would have to guess about.
 */
import { z } from 'zod';

/** Comeet uids look like `00.AAA`; accept numbers too and keep them as strings. */
const uid = z.union([z.string().min(1), z.number()]).transform(String);
const nullableString = z.string().nullish();

export const stepSchema = z.looseObject({
  name: nullableString,
  type: nullableString,
  time_scheduled: nullableString,
  time_completed: nullableString,
});
export type ComeetStep = z.infer<typeof stepSchema>;

export const candidateSchema = z.looseObject({
  uid,
  person_uid: uid.nullish(),
  email: nullableString,
  deleted: z.boolean().nullish(),
  position_uid: uid.nullish(),
  status: nullableString,
  time_created: nullableString,
  current_steps: z.array(stepSchema).nullish(),
  completed_steps: z.array(stepSchema).nullish(),
  future_steps: z.array(stepSchema).nullish(),
});
export type ComeetCandidate = z.infer<typeof candidateSchema>;

/** `GET /candidates`: a page object with `next_page`, or (some accounts / endpoints) a bare array. */
export const candidateArraySchema = z.array(candidateSchema);
export const candidatePageSchema = z.looseObject({
  candidates: z.array(candidateSchema),
  next_page: z.string().nullish(),
});

export const deletePersonResponseSchema = z.looseObject({
  candidates_deleted: z.number().int().nonnegative().optional(),
  deleted_candidates_uids: z.array(uid),
});

export const pseudonymizePersonResponseSchema = z.looseObject({
  candidates_pseudonymized: z.number().int().nonnegative().optional(),
  pseudonymized_candidates_uids: z.array(uid),
});

/** `{ status, error, message }`, sometimes with extra keys such as `person_uid` and `candidate_uid`. */
export const errorBodySchema = z.looseObject({
  status: z.number().optional(),
  error: z.string().optional(),
  message: z.string().optional(),
  person_uid: uid.optional(),
  // An array despite its name; a scalar is accepted in case some path sends one.
  candidate_uid: z.union([z.array(uid), uid]).optional(),
});
export type ComeetErrorBody = z.infer<typeof errorBodySchema>;

/** The body of `POST /candidates` we send when seeding a sandbox (source document 002). */
export const createCandidateInputSchema = z.object({
  position_uid: z.string().min(1),
  first_name: z.string().min(1),
  last_name: z.string().min(1),
  email: z.email().optional(),
  partner_candidate_id: z.string().optional(),
  note: z.string().optional(),
});
export type CreateCandidateInput = z.infer<typeof createCandidateInputSchema>;
