import { z } from 'zod';

/**
 * A vantage is a place probes are made from: one or more workers started with the same
 * PORT_CHECKER_VANTAGE, usually on one host or network, probing from PORT_CHECKER_SOURCE_ADDRESS.
 * Each vantage has a queue of its own next to the base one, and says it is alive by refreshing a
 * heartbeat key; the API picks PORT_CHECK_VANTAGES of the live ones per check (README "Probing
 * from several vantages").
 */
export const VANTAGE_ID = /^[\w.-]{1,32}$/;
/** Region and network labels: free text an operator writes, shown to callers as is. */
export const VANTAGE_LABEL = /^[\x20-\x7e]{1,64}$/;
/** The most vantages one check may ask; a check of 128 ports costs 128 × this. */
export const MAX_VANTAGES = 9;

/** A worker refreshes its vantage's heartbeat this often, and the key outlives a refresh missed or two. */
export const VANTAGE_HEARTBEAT_MS = 1000;
export const VANTAGE_HEARTBEAT_TTL_MS = 3000;

export const VantageInfo = z.object({
  id: z.string().regex(VANTAGE_ID),
  region: z.string().regex(VANTAGE_LABEL).nullable(),
  network: z.string().regex(VANTAGE_LABEL).nullable(),
});
export type VantageInfo = z.infer<typeof VantageInfo>;

/**
 * The queue of vantage `id`: BullMQ refuses ':' in a queue name, and the base name's braces (a
 * Cluster hash tag such as `{port-checks}`) stay whole at its start, so its keys share a slot.
 */
export function vantageQueueName(queueName: string, id: string): string {
  return `${queueName}-vantage-${id}`;
}

/** The set of vantage ids ever seen alive, and each one's heartbeat key (its labels, as JSON, with a TTL). */
export function vantageKeys(queueName: string): { ids: string; heartbeat: (id: string) => string } {
  const prefix = `port-checker:${queueName}`;
  return { ids: `${prefix}:vantages`, heartbeat: (id) => `${prefix}:vantage:${id}` };
}
