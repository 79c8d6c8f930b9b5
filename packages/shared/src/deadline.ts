/**
 * A check's timeline: the one place its arithmetic is done. With the default 7 s deadline:
 *
 *   0 ms       the check is admitted and its jobs are added
 *   6,500 ms   probesEndBy: every probe has ended (the jobs' `deadline`), so that its result
 *              travels back (worker → Redis → API) in time
 *   6,750 ms   lookUpAt: results still missing are read from the jobs themselves, in case their
 *              replies were lost
 *   7,000 ms   answerBy: the caller has its answer (CHECK_FAILED for a port still missing)
 */
export interface Timeline {
  /** Epoch ms by which the caller has its answer. */
  answerBy: number;
  /** Epoch ms by which every probe has ended: the jobs' `deadline`. */
  probesEndBy: number;
  /** Epoch ms at which results still missing are read from the jobs. */
  lookUpAt: number;
}

/**
 * How long before the answer a probe ends: 500 ms, well above the result's trip under load (tens
 * of ms), or a quarter of a deadline shorter than 2 s.
 */
function resultMarginMs(deadlineMs: number): number {
  return Math.min(500, deadlineMs / 4);
}

/** The timeline of a check admitted at `now` under a deadline of `deadlineMs`. */
export function checkTimeline(deadlineMs: number, now = Date.now()): Timeline {
  const margin = resultMarginMs(deadlineMs);
  return { answerBy: now + deadlineMs, probesEndBy: now + deadlineMs - margin, lookUpAt: now + deadlineMs - margin / 2 };
}

/** How long a check's ports count as in flight at the most, should its API die holding them. */
export function inFlightHoldMs(deadlineMs: number): number {
  return deadlineMs + 1000;
}

/** How long a finished job is kept: a little longer than anyone may wait for it. */
export function keepFinishedSeconds(deadlineMs: number): number {
  return Math.ceil(deadlineMs / 1000) + 10;
}

/** How long a shutdown may take before it is forced: the checks in flight end by their deadline. */
export function shutdownTimeoutMs(deadlineMs: number): number {
  return deadlineMs + 5000;
}
