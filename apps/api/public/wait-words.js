// @ts-check
/**
 * A wait in words: "45 seconds", "1 minute", "2 hours". Rounded up, so that a person who
 * waits as long as it says is never refused again.
 * @param {number} seconds
 * @returns {string}
 */
export function describeWait(seconds) {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 60) return plural(whole, 'second');
  if (whole < 3600) return plural(Math.ceil(whole / 60), 'minute');
  return plural(Math.ceil(whole / 3600), 'hour');
}

/**
 * Retry-After as seconds: either a number of seconds or an HTTP date (RFC 9110 §10.2.3).
 * @param {string | null} header
 * @param {number} now milliseconds since the epoch
 * @returns {number | undefined}
 */
export function parseRetryAfter(header, now = Date.now()) {
  if (header === null || header.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** @param {number} n @param {string} unit */
const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
