import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Absolute path of a file in the repository. */
export const repoPath = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const readRepoFile = (path: string): string => readFileSync(repoPath(path), 'utf8');

/** A YAML file of the repository; `<<:` merge keys (compose's shared blocks) are merged. */
export const readYaml = <T>(path: string): T => parse(readRepoFile(path), { merge: true }) as T;

