// @ts-check
import { postCheck } from './api-client.js';

/** Requests in flight at once: a few, so that a long list goes faster without crowding the checker. */
const IN_FLIGHT = 3;
/** A refusal that asks for a wait this short is waited out (then the same request is sent again). */
const LONGEST_AUTOMATIC_WAIT_SECONDS = 10;
const TRIES_PER_REQUEST = 4;
const WAITABLE = new Set(['RATE_LIMITED', 'SERVICE_UNAVAILABLE']);

/**
 * @typedef {import('./api-client.js').CheckAnswer} CheckAnswer
 * @typedef {import('./api-client.js').Failure} Failure
 * @typedef {{
 *   requests: number[][],
 *   target?: string | undefined,
 *   token?: string | undefined,
 *   onAnswer: (index: number, answer: CheckAnswer) => void,
 *   onWait: (seconds: number) => void,
 * }} CheckRun
 */

/**
 * Sends one POST /check-ports per list of `requests`, a few at a time. Each answer is handed
 * over with its request's index as it arrives; the first failure that is not worth waiting out
 * stops the requests not yet sent and is returned (those already sent still report).
 * @param {CheckRun} run
 * @returns {Promise<Failure | undefined>}
 */
export async function checkInRequests({ requests, target, token, onAnswer, onWait }) {
  const pending = requests.map((ports, index) => ({ ports, index }));
  /** @type {Failure | undefined} */
  let failure;

  const sendNext = async () => {
    for (let next = pending.shift(); next && !failure; next = pending.shift()) {
      for (let tries = 1; ; tries += 1) {
        const outcome = await postCheck({ ports: next.ports, target, token });
        if (outcome.ok) {
          onAnswer(next.index, outcome.answer);
          break;
        }
        const wait = outcome.failure.retryAfter;
        const waitable = WAITABLE.has(outcome.failure.code) && wait !== undefined && wait <= LONGEST_AUTOMATIC_WAIT_SECONDS;
        if (!waitable || tries === TRIES_PER_REQUEST || failure) {
          failure ??= outcome.failure;
          return;
        }
        onWait(wait);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        if (failure) return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, pending.length) }, sendNext));
  return failure;
}
