import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readRepoFile, repoPath } from './repo.js';

/**
 * The build stage's `pnpm deploy` of an app, as the Dockerfile writes it (the systemd install in the
 * README runs the same), without `pnpm` and the output folder: e.g. `deploy --filter @port-checker/api
 * --prod --legacy`.
 */
export function dockerfileDeployArgs(app: 'api' | 'worker'): string[] {
  const dockerfile = readRepoFile('Dockerfile').replace(/\\\n/g, ' ');
  const match = new RegExp(`pnpm (deploy --filter @port-checker/${app} [^&\\n]*?) /out/${app}\\b`).exec(dockerfile);
  if (!match) throw new Error(`the Dockerfile has no pnpm deploy of @port-checker/${app} into /out/${app}`);
  return match[1]!.split(/\s+/);
}

/**
 * Runs that `pnpm deploy` into `dir`, from the repository's root, on the build the global setup made
 * (dist/ is not in git): `dir` then holds what the image of the app carries in /app.
 */
export async function pnpmDeploy(app: 'api' | 'worker', dir: string): Promise<void> {
  try {
    await promisify(execFile)('pnpm', [...dockerfileDeployArgs(app), dir], { cwd: repoPath(''), encoding: 'utf8' });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`pnpm deploy of ${app} failed:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`, { cause: error });
  }
}
