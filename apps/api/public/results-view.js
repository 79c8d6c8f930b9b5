// @ts-check
import { STATE_WORDS } from './state-words.js';
import { describeWait } from './wait-words.js';

/**
 * @typedef {import('./api-client.js').CheckAnswer} CheckAnswer
 * @typedef {import('./api-client.js').Failure} Failure
 * @typedef {import('./api-client.js').PortResult} PortResult
 * @typedef {import('./api-client.js').PortState} PortState
 */

const STATES = /** @type {PortState[]} */ (['open', 'closed', 'filtered', 'error']);

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
 * the checker answers is ever parsed as HTML.
 */
export function createResultsView() {
  const section = byId('results');
  const status = byId('status');
  const progress = byId('progress');
  const failureBox = byId('failure');
  const table = byId('results-table');
  const rows = byId('result-rows');
  const advice = byId('advice');
  const adviceList = byId('advice-list');
  /** @type {number[]} */
  let order = [];
  /** @type {Map<number, PortResult>} */
  const results = new Map();
  let host = '';

  const render = () => {
    rows.replaceChildren(...order.filter((port) => results.has(port)).map((port) => row(port, /** @type {PortResult} */ (results.get(port)))));
    const found = STATES.filter((state) => state !== 'open' && [...results.values()].some((result) => result.state === state));
    adviceList.replaceChildren(...found.map((state) => adviceItem(state, [...results.values()].filter((r) => r.state === state).length)));
    advice.hidden = found.length === 0;
    table.hidden = results.size === 0;
  };

  return {
    /** @param {number[]} ports in the order typed @param {string} target */
    start(ports, target) {
      const total = ports.length;
      order = ports;
      results.clear();
      host = target;
      section.hidden = false;
      failureBox.hidden = true;
      failureBox.replaceChildren();
      render();
      progress.hidden = false;
      progress.setAttribute('max', String(total));
      progress.setAttribute('value', '0');
      status.textContent = `Checking ${total === 1 ? '1 port' : `${total} ports`} at ${target}…`;
    },

    /** @param {CheckAnswer} answer */
    add(answer) {
      host = answer.provider_ip;
      for (const [port, result] of Object.entries(answer.results)) results.set(Number(port), result);
      render();
      progress.setAttribute('value', String(results.size));
      status.textContent = `Checking ports at ${host}: ${results.size} of ${order.length} done.`;
    },

    /** @param {number} seconds */
    wait(seconds) {
      status.textContent = `The checker asks to wait ${describeWait(seconds)}; the check goes on after that. ${results.size} of ${order.length} done.`;
    },

    /** @param {Failure | undefined} failure */
    finish(failure) {
      progress.hidden = true;
      const reachable = [...results.values()].filter((result) => result.accessible).length;
      const unchecked = order.length - results.size;
      status.textContent =
        results.size === 0
          ? 'No port was checked.'
          : `${reachable} of ${results.size} reachable at ${host}.` + (unchecked > 0 ? ` ${unchecked} not checked.` : '');
      if (failure) showFailure(failureBox, failure);
    },
  };
}

/** @param {number} port @param {PortResult} result */
function row(port, { state, error, latency_ms }) {
  const tr = document.createElement('tr');
  const meaning = STATE_WORDS[state]?.meaning ?? state;
  tr.append(
    element('th', String(port)),
    element('td', state, `state state-${state}`),
    element('td', connectTime(latency_ms), 'time'),
    // A refusal's message only repeats the meaning; the others' tell timed out from unreachable.
    element('td', state === 'open' || state === 'closed' || !error ? meaning : `${meaning} (${error})`),
  );
  tr.firstElementChild?.setAttribute('scope', 'row');
  return tr;
}

/** @param {PortState} state @param {number} count */
function adviceItem(state, count) {
  const item = document.createElement('li');
  item.append(element('strong', `${state[0]?.toUpperCase()}${state.slice(1)} (${count === 1 ? '1 port' : `${count} ports`}): `), STATE_WORDS[state].advice);
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
