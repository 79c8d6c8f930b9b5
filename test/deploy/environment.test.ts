import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '@port-checker/shared';
import { readRepoFile } from '../support/repo.js';

const example = readRepoFile('.env.example');
const exampleVariables = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, name, value]) => [name!, value!] as const);

/** Rows of the README's Configuration table: the one table of every variable. */
function readmeVariables(): string[] {
  const readme = readRepoFile('README.md');
  const section = readme.slice(readme.indexOf('\n## Configuration'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| variable |')));
  return [...table.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map(([, name]) => name!);
}

describe('every variable the config schema reads', () => {
  it('is in .env.example, and .env.example sets nothing else', () => {
    expect(exampleVariables.map(([name]) => name).sort()).toEqual([...ENV_VARIABLES].sort());
  });

  it("has a row in the README's Configuration table, and the table lists nothing else", () => {
    expect(readmeVariables().sort()).toEqual([...ENV_VARIABLES].sort());
  });
});

describe('.env.example', () => {
  it('is a valid configuration once a Redis is named, and shows the defaults', () => {
    const env = Object.fromEntries(exampleVariables);
    // No Redis is assumed: the operator names one (pnpm start and compose do it themselves).
    expect(() => loadConfig(env)).toThrow(/no Redis given/);
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(loadConfig({ ...env, ...redis })).toEqual(loadConfig(redis));
  });
});
