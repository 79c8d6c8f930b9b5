import { closest, distance } from 'fastest-levenshtein';
import type { Logger } from 'pino';
import { ENV_VARIABLES } from './config.js';

// The CLI's variable shares the prefix; it means nothing to the service but is no typo.
const OTHER_KNOWN = new Set(['PORT_CHECKER_URL']);
const PREFIX = /^PORT_CHECK(ER)?_/;

export interface UnknownVariable {
  variable: string;
  /** The service's variable nearest in spelling, when it is near enough to be the one meant. */
  closest: string | undefined;
}

/** Variables with the service's prefixes that it does not read: most likely misspelled, so silently ignored. */
export function findUnknownVariables(env: NodeJS.ProcessEnv): UnknownVariable[] {
  return Object.keys(env)
    .filter((name) => PREFIX.test(name) && !ENV_VARIABLES.includes(name) && !OTHER_KNOWN.has(name))
    .sort()
    .map((variable) => {
      const nearest = closest(variable, [...ENV_VARIABLES]);
      // A few edits away: a typo; further, a variable of some other version or tool.
      return { variable, closest: distance(variable, nearest) <= 4 ? nearest : undefined };
    });
}

/** For `main`: one warning per unknown variable, naming the one probably meant. */
export function warnUnknownVariables(logger: Logger, env: NodeJS.ProcessEnv = process.env): void {
  for (const { variable, closest: meant } of findUnknownVariables(env)) {
    const hint = meant ? `; did you mean ${meant}?` : '';
    logger.warn({ variable, closest: meant ?? null }, `unknown variable ${variable} is ignored${hint}`);
  }
}
