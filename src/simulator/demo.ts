/** The demo data set (demo-data.json) and seed-file loading for the simulator. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatZodError, seedSchema } from './schemas.js';
import type { SimulatorSeed } from './types.js';

export const DEMO_API_KEY = 'demo-api-key';
export const DEMO_SECRET = 'demo-secret-please-change';

export interface DemoSubject {
  email: string;
  description: string;
}

const subjectsSchema = z.array(z.object({ email: z.string(), description: z.string() })).optional();

const DEMO_FILE = new URL('./demo-data.json', import.meta.url);

function parseSeed(raw: unknown, where: string): SimulatorSeed {
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid seed in ${where}: ${formatZodError(parsed.error)}`);
  return parsed.data as SimulatorSeed;
}

function readJson(file: string | URL, where: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read seed file ${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`Seed file ${where} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * The demo data as a fresh `seed` for `startSimulator` (relative times like "+1m" resolve when the
 * simulator starts). Each call returns a new copy.
 */
export function loadDemoSeed(): SimulatorSeed {
  return parseSeed(readJson(DEMO_FILE, 'demo-data.json'), 'demo-data.json');
}

/** The demo subjects (emails to try) with what each one demonstrates. */
export function demoSubjects(): DemoSubject[] {
  const raw = readJson(DEMO_FILE, 'demo-data.json') as { subjects?: unknown };
  return subjectsSchema.parse(raw.subjects) ?? [];
}

/**
 * Loads a seed file: `{ "candidates": [SimCandidateSeed...], "positions"?: [...] }` or a bare array
 * of candidate seeds. Throws one clear line naming the file and the bad field.
 */
export function loadSeedFile(path: string): SimulatorSeed {
  const raw = readJson(path, path);
  return parseSeed(Array.isArray(raw) ? { candidates: raw } : raw, path);
}
