/** `dsar` run in-process against a scenario's dev server and task queue, its output captured. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { runCli } from '../../src/cli/main.js';
import { TEST_ENCRYPTION_KEYS, type Scenario } from './scenario.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export function scenarioCli(env: TestWorkflowEnvironment, s: Scenario, extraEnv: Record<string, string> = {}, stdin?: () => string) {
  return async (...argv: string[]): Promise<CliRun> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {
        DSAR_ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: s.taskQueue,
        DSAR_ID_KEY: s.idKey,
        DSAR_FOLLOW_UP_DELAY: '0',
        ...extraEnv,
      },
      ...(stdin ? { stdin } : {}),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
}
