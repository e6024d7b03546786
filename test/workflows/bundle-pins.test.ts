/**
 * Every package the workflow bundle pulls in is pinned to one exact version: a bump of one of them
 * (zod's parsing, the SDK's command order) changes what replays, so it must be a deliberate change
 * of package.json, checked against the recorded histories, never a side effect of `npm install`.
 * And zod is not among them: each workflow evaluates the bundle's modules in its own sandbox
 * context, and zod with the request schemas cost ~0.8 MB per workflow (the guard in
 * src/workflows/input-guard.ts checks the input instead).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { FAILURE_CONVERTER_PATH } from '../../src/codec/data-converter.js';
import { tracingFromEnv } from '../../src/observability.js';
import { PROJECT_ROOT } from '../../src/temporal-binaries.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';

interface PackageJson {
  dependencies: Record<string, string>;
  overrides?: Record<string, unknown>;
}
const packageJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
};

/** The npm packages whose code is in a bundle (webpack names each module by its path). */
function packagesIn(code: string): string[] {
  return [...new Set([...code.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]!))].sort();
}

async function bundledCode(withTracing: boolean): Promise<string> {
  const tracing = withTracing ? await tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }) : undefined;
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: new DefaultLogger('WARN'),
      ...(tracing ? { plugins: [tracing.plugin as never] } : {}),
    });
    return code;
  } finally {
    await tracing?.shutdown();
  }
}

/** Where package.json fixes a package's version: a direct dependency, else an override. */
function pinOf(name: string): string | undefined {
  const pin = packageJson.dependencies[name] ?? packageJson.overrides?.[name];
  return typeof pin === 'string' ? pin : undefined;
}

describe('the workflow bundle', () => {
  it.each([
    ['the production bundle', false],
    ['the bundle with tracing interceptors', true],
  ])(
    '%s imports only packages pinned to the exact version installed and locked',
    async (_what, withTracing) => {
      const code = await bundledCode(withTracing);
      const packages = packagesIn(code);
      expect(packages).toContain('@temporalio/workflow');
      // Neither zod's module path nor its code (a copy vendored under another path would still name its classes).
      expect(packages).not.toContain('zod');
      expect(code).not.toMatch(/\$ZodType|ZodError/);
      if (withTracing) expect(packages).toContain('@temporalio/interceptors-opentelemetry');
      for (const name of packages) {
        const installed = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
        expect(
          pinOf(name),
          `${name} is in the workflow bundle: pin it in package.json (dependencies, or overrides for a transitive one) to exactly ${installed}`,
        ).toBe(installed);
        expect(lock.packages[`node_modules/${name}`]?.version, `package-lock.json locks another ${name}`).toBe(installed);
        // Only one copy: a nested one would be bundled for its dependant whatever the pin says.
        expect(
          Object.keys(lock.packages).filter((k) => k.endsWith(`/node_modules/${name}`)),
          `a nested copy of ${name}`,
        ).toEqual([]);
      }
    },
    120_000,
  );

  it('package-lock.json records the same ranges as package.json (what npm ci checks)', () => {
    const root = lock.packages['']!;
    expect(root.dependencies).toEqual(packageJson.dependencies);
  });
});
