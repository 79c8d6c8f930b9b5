import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { AppError, type Budgets as BudgetSettings } from '@port-checker/shared';
import { createBudgets } from '../src/budgets/budgets.js';
import { captureLogs } from '../../../test/support/log-capture.js';

// The budgets alone, on the tests' Redis: no queue, no worker, so no address here is ever connected to.
const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.quit());

const settings: BudgetSettings = {
  windowSeconds: 60,
  clientPorts: 100,
  clientPortsPer56: 0,
  clientPortsPer48: 0,
  clientPortsInFlight: 0,
  clientPortsInFlightPer56: 0,
  clientPortsInFlightPer48: 0,
  targetPorts: 4,
  targetNetworkPorts: 0,
};
const check = async () => 'checked';
const refusal = (error: unknown) => (error instanceof AppError ? { code: error.code, limit: error.limit } : error);

describe("a provider's own addresses are not strangers", () => {
  it("charges a check of another address of the caller's own IPv6 /64 to the caller, never to the target's budget that strangers spent", async () => {
    const budgets = createBudgets(redis, settings, `test-${randomUUID()}`, 7000, captureLogs('api').logger);
    const target = '2001:db8:0:1::2';
    // Strangers, each from a /64 of its own, spend the target's budget.
    for (const stranger of ['2001:db8:0:7::1', '2001:db8:0:8::1']) await budgets.spend({ client: stranger, target, ports: 2 }, check);
    await expect(budgets.spend({ client: '2001:db8:0:9::1', target, ports: 1 }, check).catch(refusal)).resolves.toEqual({ code: 'RATE_LIMITED', limit: 'target' });

    // The provider, from another address of the target's /64, and from the target itself.
    const fromItsNetwork = await budgets.spend({ client: '2001:db8:0:1::1', target, ports: 2 }, check);
    const fromItself = await budgets.spend({ client: target, target, ports: 2 }, check);

    expect([fromItsNetwork.value, fromItself.value]).toEqual(['checked', 'checked']);
  });

  it('still charges another IPv4 address to the target: IPv4 clients count per address', async () => {
    const budgets = createBudgets(redis, settings, `test-${randomUUID()}`, 7000, captureLogs('api').logger);
    await budgets.spend({ client: '198.51.100.7', target: '198.51.100.8', ports: 4 }, check);
    await expect(budgets.spend({ client: '198.51.100.9', target: '198.51.100.8', ports: 1 }, check).catch(refusal)).resolves.toEqual({
      code: 'RATE_LIMITED',
      limit: 'target',
    });
  });
});
