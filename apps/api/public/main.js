// @ts-check
import { fetchWhoami } from './api-client.js';
import { checkInRequests } from './check-runner.js';
import { chunk, parsePorts } from './port-list.js';
import { createResultsView, showFailure } from './results-view.js';

/** @typedef {import('./api-client.js').Whoami} Whoami */

// sessionStorage: the token lives as long as this tab, and no other tab or site sees it.
const TOKEN_KEY = 'port-checker:api-token';

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const form = /** @type {HTMLFormElement} */ (byId('check-form'));
const portsInput = /** @type {HTMLInputElement} */ (byId('ports'));
const targetInput = /** @type {HTMLInputElement} */ (byId('target'));
const tokenInput = /** @type {HTMLInputElement} */ (byId('token'));
const button = byId('check-button');
const portsError = byId('ports-error');
const view = createResultsView();

/** @type {Whoami | undefined} */
let whoami;
let running = false;

/** Asks the checker who we are and what it allows; the page adapts to the answer. */
async function learnWhoami() {
  const answer = await fetchWhoami();
  if (!answer.ok) {
    byId('caller-address').textContent = 'unknown';
    showFailure(byId('notice'), answer.failure);
    return undefined;
  }
  byId('notice').hidden = true;
  whoami = answer.whoami;
  const { address, accepts_other_targets, api_token_required } = whoami;
  byId('caller-address').textContent = `${address} (${address.includes(':') ? 'IPv6' : 'IPv4'})`;
  if (accepts_other_targets && !targetInput.value) targetInput.value = address;
  byId('target-field').hidden = !accepts_other_targets;
  if (!accepts_other_targets) byId('address-line').append(' This checker checks only this address.');
  if (api_token_required) byId('token-field').hidden = false;
  return whoami;
}

/** @param {string} message */
function showPortsError(message) {
  portsError.textContent = message;
  portsError.hidden = !message;
  // "true", not an empty value: ARIA reads aria-invalid="" as false.
  if (message) portsInput.setAttribute('aria-invalid', 'true');
  else portsInput.removeAttribute('aria-invalid');
}

/** @param {boolean} busy */
function setRunning(busy) {
  running = busy;
  // aria-disabled, not disabled: a disabled button would drop the keyboard focus to the page.
  button.setAttribute('aria-disabled', String(busy));
  button.textContent = busy ? 'Checking…' : 'Check ports';
}

async function check() {
  /** @type {number[]} */
  let ports;
  try {
    ports = parsePorts(portsInput.value);
  } catch (error) {
    showPortsError(error instanceof Error ? error.message : String(error));
    portsInput.focus();
    return;
  }
  showPortsError('');
  const info = whoami ?? (await learnWhoami());
  if (!info) return;
  const typed = info.accepts_other_targets ? targetInput.value.trim() : '';
  const target = typed && typed !== info.address ? typed : undefined;
  const token = tokenInput.value.trim() || undefined;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);

  // As many requests as the checker's per-request limit needs: it may change, so it is asked.
  const requests = chunk(ports, info.max_ports_per_request);
  setRunning(true);
  view.start(requests, target ?? info.address);
  const failure = await checkInRequests({
    requests,
    target,
    token,
    onAnswer: view.add,
    onWait: view.wait,
  });
  view.finish(failure);
  setRunning(false);
  if (failure?.code === 'UNAUTHORIZED') {
    byId('token-field').hidden = false;
    tokenInput.focus();
  }
}

for (const preset of document.querySelectorAll('button[data-ports]')) {
  preset.addEventListener('click', () => {
    portsInput.value = /** @type {HTMLElement} */ (preset).dataset.ports ?? '';
    showPortsError('');
  });
}
form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!running) void check();
});
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
void learnWhoami();
