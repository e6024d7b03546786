/**
 * Dependencies as declared: every package src/ imports is a direct dependency (not one that happens
 * to be installed for another), and every @temporalio package is pinned to one exact version, the
 * one installed (a mixed SDK fails at run time in ways no type check sees).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('package dependencies', () => {
  it('declares every package src/ imports as a dependency', () => {
    const imported = new Set<string>();
    for (const file of sources('src')) {
      for (const m of readFileSync(file, 'utf8').matchAll(
        /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"./][^'"]*)['"]|import\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g,
      )) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
    expect([...imported].filter((p) => !declared.has(p)).sort()).toEqual([]);
    // @temporalio/proto is imported by src/client.ts and src/rate-cap.ts: a runtime dependency.
    expect(pkg.dependencies['@temporalio/proto']).toBeDefined();
  });

  it('pins every @temporalio package to the one exact version installed', () => {
    const temporal = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(([name]) => name.startsWith('@temporalio/'));
    expect(temporal.length).toBeGreaterThan(5);
    const versions = new Set(temporal.map(([, v]) => v));
    expect([...versions]).toHaveLength(1);
    const [version] = versions;
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    for (const [name] of temporal) expect(JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')).version, name).toBe(version);
  });
});
