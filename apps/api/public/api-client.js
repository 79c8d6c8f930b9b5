// @ts-check
import { parseRetryAfter } from './wait-words.js';

/**
 * @typedef {{ address: string, accepts_other_targets: boolean, max_ports_per_request: number, api_token_required: boolean }} Whoami
 * @typedef {'open' | 'closed' | 'filtered' | 'error'} PortState
 * @typedef {{ status: 'finished' | 'timed_out' | 'offline', state: PortState | null, error: string | null, attempts: number | null, latency_ms: number | null, region: string | null, network: string | null, verified?: boolean }} VantageResult
 * @typedef {{ asked: number, answered: number, agree: number, required: number }} Agreement
 * @typedef {{ accessible: boolean, state: PortState, error: string | null, attempts: number, latency_ms: number | null, vantages?: Record<string, VantageResult>, agreement?: Agreement }} PortResult
 * @typedef {{ results: Record<string, PortResult>, provider_ip: string }} CheckAnswer
 * @typedef {{ code: string, title: string, detail: string, retryAfter?: number }} Failure
 *   What went wrong, in words: `title` says it for a person, `detail` is the checker's own message.
 * @typedef {{ ok: true, answer: CheckAnswer } | { ok: false, failure: Failure }} Outcome
 */

/** What each error code of the API means to a person at this page. */
const TITLES = /** @type {Record<string, string>} */ ({
  RATE_LIMITED: 'Too many checks for now.',
  SERVICE_UNAVAILABLE: 'The checker is busy or restarting.',
  CHECK_FAILED: 'The checker could not finish every port in time.',
  UNAUTHORIZED: 'This checker needs an API token: type it in the “API token” field.',
  FORBIDDEN_TARGET: 'This checker does not check that address.',
  INVALID_PORT: 'The checker did not accept a port.',
  INVALID_IP: 'That is not an IPv4 or IPv6 address.',
  TOO_MANY_PORTS: 'Too many ports in one request.',
  OFFLINE: 'The checker could not be reached: is this device online?',
});

/** Each budget a 429 names in `detail.limit`, in words. */
const LIMITS = /** @type {Record<string, string>} */ ({
  client: 'This checker limits how many checks one address may ask for in a while.',
  client_network: 'This checker limits how many checks one network may ask for in a while.',
  client_in_flight: 'This checker limits how many ports one address may have checked at once.',
  client_network_in_flight: 'This checker limits how many ports one network may have checked at once.',
  target: 'This checker limits how often one address may be probed in a while, whoever asks.',
  target_network: 'This checker limits how often one network may be probed in a while, whoever asks.',
});

/**
 * A 429's limit in words, from its `detail.limit`; undefined for a limit not known here.
 * @param {unknown} limit
 */
export function limitInWords(limit) {
  return typeof limit === 'string' ? LIMITS[limit] : undefined;
}

/** @returns {Promise<{ ok: true, whoami: Whoami } | { ok: false, failure: Failure }>} */
export async function fetchWhoami() {
  const response = await send('/whoami', { headers: { accept: 'application/json' } });
  if (!('status' in response)) return { ok: false, failure: response };
  if (!response.ok) return { ok: false, failure: await toFailure(response) };
  return { ok: true, whoami: await response.json() };
}

/**
 * One POST /check-ports, as any client sends it.
 * @param {{ ports: number[], target?: string | undefined, token?: string | undefined }} request
 * @returns {Promise<Outcome>}
 */
export async function postCheck({ ports, target, token }) {
  const headers = /** @type {Record<string, string>} */ ({ 'content-type': 'application/json', accept: 'application/json' });
  if (token) headers.authorization = `Bearer ${token}`;
  const body = JSON.stringify(target ? { provider_ip: target, ports } : { ports });
  const response = await send('/check-ports', { method: 'POST', headers, body });
  if (!('status' in response)) return { ok: false, failure: response };
  if (!response.ok) return { ok: false, failure: await toFailure(response) };
  return { ok: true, answer: await response.json() };
}

/**
 * @param {string} path
 * @param {RequestInit} init
 * @returns {Promise<Response | Failure>}
 */
async function send(path, init) {
  try {
    return await fetch(path, { ...init, cache: 'no-store' });
  } catch (error) {
    return { code: 'OFFLINE', title: TITLES.OFFLINE ?? '', detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The API's error shape, `{"detail": {"code", "message"}}`, in words; anything else (a proxy's
 * HTML page, say) by its status alone.
 * @param {Response} response
 * @returns {Promise<Failure>}
 */
async function toFailure(response) {
  const body = await response.json().catch(() => undefined);
  const code = typeof body?.detail?.code === 'string' ? body.detail.code : `HTTP_${response.status}`;
  const message = typeof body?.detail?.message === 'string' ? body.detail.message : '';
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  const limit = code === 'RATE_LIMITED' ? limitInWords(body?.detail?.limit) : undefined;
  const title = TITLES[code] ?? `The checker answered with an error (HTTP ${response.status}).`;
  return {
    code,
    title: limit ? `${title} ${limit}` : title,
    detail: message,
    ...(retryAfter !== undefined && { retryAfter }),
  };
}
