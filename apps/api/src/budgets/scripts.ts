import { readFileSync } from 'node:fs';
import type { RedisClient } from '@port-checker/shared';

// apps/api/lua/, from src/budgets/ and dist/budgets/ alike; read once, at start.
const lua = (name: string): string => readFileSync(new URL(`../../lua/${name}.lua`, import.meta.url), 'utf8');

/** The budgets' Lua scripts as commands of `redis` (each file's header lists its KEYS and ARGV). */
export interface BudgetScripts {
  chargeBudgets(keyCount: number, ...args: (string | number)[]): Promise<[number, number, number]>;
  refundBudgets(keyCount: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Defines the scripts on `redis` once (ioredis sends EVALSHA, and the script itself when Redis lacks it). */
export function budgetScripts(redis: RedisClient): BudgetScripts {
  if (!('chargeBudgets' in redis)) {
    redis.defineCommand('chargeBudgets', { lua: lua('charge-budgets') });
    redis.defineCommand('refundBudgets', { lua: lua('refund-budgets') });
  }
  return redis as unknown as BudgetScripts;
}
