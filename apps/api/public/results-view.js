// @ts-check
import { STATE_WORDS } from './state-words.js';
import { describeWait } from './wait-words.js';

/**
 * @typedef {import('./api-client.js').CheckAnswer} CheckAnswer
 * @typedef {import('./api-client.js').Failure} Failure
 * @typedef {import('./api-client.js').PortResult} PortResult
 * @typedef {import('./api-client.js').PortState} PortState
 * @typedef {import('./api-client.js').VantageResult} VantageResult
 */

/** The states in the order the page lists them: STATE_WORDS' own. */
const STATES = /** @type {PortState[]} */ (Object.keys(STATE_WORDS));

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} text @param {string} [className]
 */
function element(tag, text, className) {
  const made = document.createElement(tag);
  made.textContent = text;
  if (className) made.className = className;
  return made;
}

/** @param {number | null} ms */
const connectTime = (ms) => (ms === null ? '—' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);

/**
 * The results part of the page: progress and summary in a live region, a row per port in the
 * order typed, what to try for each state found, and failures in words. Text only: nothing
 * the checker answers is ever parsed as HTML. One <tbody> per request, so that answers arriving
 * in any order land in place and a long list costs one pass over its rows.
 */
export function createResultsView() {
  const status = byId('status');
  const progress = byId('progress');
  const failureBox = byId('failure');
  const table = byId('results-table');
  const advice = byId('advice');
  const adviceList = byId('advice-list');
  /** @type {number[][]} */
  let requests = [];
  /** @type {HTMLTableSectionElement[]} */
  let bodies = [];
  /** @type {Map<PortState, number>} */
  const counts = new Map();
  let total = 0;
  let checked = 0;
  let host = '';

  return {
    /** @param {number[][]} ports the requests' ports, in the order typed @param {string} target */
    start(ports, target) {
      requests = ports;
      bodies = requests.map(() => document.createElement('tbody'));
      table.querySelectorAll('tbody').forEach((body) => body.remove());
      table.append(...bodies);
      table.hidden = true;
      counts.clear();
      total = requests.reduce((sum, list) => sum + list.length, 0);
      checked = 0;
      host = target;
      advice.hidden = true;
      failureBox.hidden = true;
      progress.hidden = false;
      status.removeAttribute('data-idle');
      progress.setAttribute('max', String(total));
      progress.setAttribute('value', '0');
      status.textContent = `Checking ${total === 1 ? '1 port' : `${total} ports`} at ${target}…`;
    },

    /** @param {number} index which request answered @param {CheckAnswer} answer */
    add(index, answer) {
      host = answer.provider_ip;
      for (const port of requests[index] ?? []) {
        const result = answer.results[String(port)];
        if (!result) continue;
        bodies[index]?.append(row(port, result));
        counts.set(result.state, (counts.get(result.state) ?? 0) + 1);
        checked += 1;
      }
      table.hidden = false;
      const found = STATES.filter((state) => state !== 'open' && counts.has(state));
      adviceList.replaceChildren(...found.map((state) => adviceItem(state, counts.get(state) ?? 0)));
      advice.hidden = found.length === 0;
      progress.setAttribute('value', String(checked));
      status.textContent = `Checking ports at ${host}: ${checked} of ${total} done.`;
    },

    /** @param {number} seconds */
    wait(seconds) {
      status.textContent = `The checker asks to wait ${describeWait(seconds)}; the check goes on after that. ${checked} of ${total} done.`;
    },

    /** @param {Failure | undefined} failure */
    finish(failure) {
      progress.hidden = true;
      const unchecked = total - checked;
      status.textContent =
        checked === 0
          ? 'No port was checked.'
          : `${counts.get('open') ?? 0} of ${checked} reachable at ${host}.` + (unchecked > 0 ? ` ${unchecked} not checked.` : '');
      if (failure) showFailure(failureBox, failure);
    },
  };
}

/** @param {number} port @param {PortResult} result */
function row(port, { state, error, latency_ms, vantages, agreement }) {
  const tr = document.createElement('tr');
  const words = STATE_WORDS[state]?.short ?? state;
  // A refusal's message only repeats the state; the others' tell timed out from unreachable.
  const meaning = element('td', state === 'open' || state === 'closed' || !error ? words : `${words} (${error})`);
  if (vantages && agreement) meaning.append(element('span', seenFrom(vantages, agreement), 'vantages'));
  tr.append(element('th', String(port)), element('td', state, `state state-${state}`), element('td', connectTime(latency_ms), 'time'), meaning);
  tr.firstElementChild?.setAttribute('scope', 'row');
  return tr;
}

/**
 * From a checker that probes from several places: how many agree, and what each one saw.
 * @param {Record<string, VantageResult>} vantages @param {import('./api-client.js').Agreement} agreement
 */
function seenFrom(vantages, { answered, agree, required }) {
  const each = Object.entries(vantages).map(([vantage, { region, status, state }]) => {
    const where = region === null ? vantage : `${vantage}, ${region}`;
    return `${where}: ${status === 'finished' ? state : status === 'timed_out' ? 'no answer' : 'offline'}`;
  });
  const verdict = agree >= required ? `Seen so from ${agree} of ${answered} places that answered` : `The ${answered} places that answered disagree (${required} must agree)`;
  return `${verdict} (${each.join('; ')}).`;
}

/** @param {PortState} state @param {number} count */
function adviceItem(state, count) {
  const item = document.createElement('li');
  const { meaning, advice } = STATE_WORDS[state];
  item.append(element('strong', `${state[0]?.toUpperCase()}${state.slice(1)} (${count === 1 ? '1 port' : `${count} ports`}): `), `${meaning} ${advice}`);
  return item;
}

/** @param {HTMLElement} box @param {Failure} failure */
export function showFailure(box, { title, detail, retryAfter }) {
  const parts = [element('p', title, 'failure-title')];
  if (retryAfter !== undefined) {
    const at = new Date(Date.now() + retryAfter * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    parts.push(element('p', `Try again in ${describeWait(retryAfter)} (at ${at}).`, 'failure-wait'));
  }
  if (detail) parts.push(element('p', `The checker said: ${detail}`, 'failure-detail'));
  box.replaceChildren(...parts);
  box.hidden = false;
}
