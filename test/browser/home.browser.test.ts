/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// ^ for the callbacks that page.evaluate runs in the browser.
import { mkdirSync } from 'node:fs';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWait } from '../../apps/api/public/wait-words.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { closedPorts, filteredPorts, openPortAt, openPorts, type Ports } from '../support/listeners.js';
import type { Service } from '../support/service.js';
import { servicePerTest } from '../support/service-per-test.js';

// Every check in this file probes 127.0.0.1, the address the page's own requests come from.
// SCREENSHOTS_DIR=… saves what the page looks like at desktop and phone width.
const SCREENSHOTS_DIR = process.env.SCREENSHOTS_DIR;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

interface OpenedPage {
  page: Page;
  /** Every request the page made, in order. */
  requests: Request[];
  /** The POST /check-ports requests: the ports each carried. */
  checks(): number[][];
  consoleErrors: string[];
}

const service = servicePerTest();
let browser: Browser;
const listeners: Ports[] = [];
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(listeners.map((ports) => ports.close()));
});

async function openHome(running: Service, viewport = DESKTOP): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const requests: Request[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (request) => requests.push(request));
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(`${running.url}/`);
  await page.locator('#caller-address', { hasText: '127.0.0.1' }).waitFor();
  const checks = () =>
    requests
      .filter((request) => request.method() === 'POST' && request.url() === `${running.url}/check-ports`)
      .map((request) => (JSON.parse(request.postData()!) as { ports: number[] }).ports);
  return { page, requests, checks, consoleErrors };
}

async function listen(count: number): Promise<number[]> {
  const open = await openPorts(count);
  listeners.push(open);
  return open.ports;
}

/** `count` consecutive loopback ports, each free when chosen, so that a range can be typed. */
async function consecutivePorts(count: number): Promise<number[]> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = Array.from({ length: count }, (_, i) => first + i);
    const bound = await Promise.allSettled(ports.map((port) => openPortAt(port)));
    await Promise.all(bound.map((result) => result.status === 'fulfilled' && result.value.close()));
    if (bound.every((result) => result.status === 'fulfilled')) return ports;
  }
}

const rows = (page: Page): Promise<string[][]> =>
  page.locator('#results-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
const status = (page: Page) => page.getByRole('status');
const summary = async (page: Page): Promise<string> => {
  await status(page).filter({ hasText: /reachable at|No port was checked/ }).waitFor();
  return status(page).innerText();
};

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS_DIR) return;
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS_DIR}/${name}.png`, fullPage: true });
}

describe.skipIf(!hasChromium)('the page at /, in headless Chromium', () => {
  it('loads with every request to its own origin, no console error, and shows the address the service sees', async () => {
    const running = await service.start({ workers: 0 });
    const { page, requests, consoleErrors } = await openHome(running);

    const paths = requests.map((request) => request.url());
    expect(paths.filter((url) => !url.startsWith(`${running.url}/`))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining([`${running.url}/assets/main.js`, `${running.url}/assets/style.css`, `${running.url}/whoami`]));
    expect(await page.locator('#caller-address').innerText()).toBe('127.0.0.1 (IPv4)');
    // Local targets are allowed here, so the address may be changed; it starts as the caller's own.
    expect(await page.getByLabel('Address to check').inputValue()).toBe('127.0.0.1');
    expect(await page.getByLabel('API token').isVisible()).toBe(false);
    expect(consoleErrors).toEqual([]);
    await screenshot(page, 'desktop-start');
  });

  it('typing open, closed and filtered ports and pressing "Check ports" shows a row per port with its state', async () => {
    const running = await service.start({ env: { PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const [open] = await listen(1);
    const [closed] = await closedPorts(1);
    const filtered = await filteredPorts(1);
    listeners.push(filtered);
    const { page, checks } = await openHome(running);

    await page.getByLabel('Ports', { exact: true }).fill(`${open}, ${closed}, ${filtered.ports[0]}`);
    await page.getByRole('button', { name: 'Check ports' }).click();

    expect(await summary(page)).toBe('1 of 3 reachable at 127.0.0.1.');
    const table = await rows(page);
    expect(table.map(([port, state]) => [Number(port), state])).toEqual([
      [open, 'open'],
      [closed, 'closed'],
      [filtered.ports[0], 'filtered'],
    ]);
    expect(table[0]![2]).toMatch(/^\d+(\.\d)? ms$/);
    expect(table.map((cells) => cells[3])).toEqual([
      'Reachable',
      'Refused: nothing listens',
      'No answer: dropped on the way (Connection timed out)',
    ]);
    expect(await page.locator('#advice-list li').allInnerTexts()).toEqual([
      expect.stringMatching(/^Closed \(1 port\): The connection reached your address, but nothing listens on the port\. Start the program/),
      expect.stringMatching(/^Filtered \(1 port\): A firewall or the router drops connections to the port\. Forward the port/),
    ]);
    expect(checks()).toEqual([[open, closed, filtered.ports[0]]]);
    await screenshot(page, 'desktop-results');
  });

  it('sends a long list in requests of the size /whoami gives, a few at a time, with progress', async () => {
    const running = await service.start({ env: { PORT_CHECK_MAX_PORTS: '4', PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const range = await consecutivePorts(10);
    listeners.push(await openPortAt(range[2]!), await openPortAt(range[7]!));
    // A filtered port makes the first request the slowest, so the others finish while it runs.
    const filtered = await filteredPorts(1);
    listeners.push(filtered);
    const { page, requests, checks } = await openHome(running);
    const finished: string[] = [];
    page.on('requestfinished', (request) => request.method() === 'POST' && finished.push(request.postData()!));
    await page.evaluate(() => {
      const seen: string[] = [];
      const said: string[] = [];
      Object.assign(window, { progressSeen: seen, statusSaid: said });
      const [progress, live] = [document.querySelector('#progress')!, document.querySelector('#status')!];
      new MutationObserver(() => seen.push(progress.getAttribute('value') ?? '')).observe(progress, { attributes: true, attributeFilter: ['value'] });
      new MutationObserver(() => said.push(live.textContent ?? '')).observe(live, { childList: true, characterData: true, subtree: true });
    });

    await page.getByLabel('Ports', { exact: true }).fill(`${filtered.ports[0]}, ${range[0]}-${range[9]}`);
    await page.getByRole('button', { name: 'Check ports' }).click();

    expect(await summary(page)).toBe('2 of 11 reachable at 127.0.0.1.');
    expect(checks()).toEqual([
      [filtered.ports[0], ...range.slice(0, 3)],
      range.slice(3, 7),
      range.slice(7, 10),
    ]);
    expect(JSON.parse(finished.at(-1)!).ports[0]).toBe(filtered.ports[0]);
    const progress = (await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen)).map(Number);
    // The second and third requests (4 and 3 ports) may finish in either order.
    expect([[0, 4, 7, 11], [0, 3, 7, 11]]).toContainEqual(progress);
    const said = await page.evaluate(() => (window as unknown as { statusSaid: string[] }).statusSaid);
    expect(said).toContain('Checking ports at 127.0.0.1: 7 of 11 done.');
    expect(await page.locator('#progress').isVisible()).toBe(false);
    const states = new Map((await rows(page)).map(([port, state]) => [Number(port), state]));
    expect([...states.keys()]).toEqual([filtered.ports[0], ...range]);
    expect([...states.values()].filter((state) => state === 'open')).toHaveLength(2);
    expect(states.get(range[2]!)).toBe('open');
    expect(states.get(filtered.ports[0]!)).toBe('filtered');
    expect(requests.every((request) => request.url().startsWith(`${running.url}/`))).toBe(true);
  });

  it('a 429 from the per-client limit shows, in words, how long to wait', async () => {
    const running = await service.start({ env: { PORT_CHECKER_RATE_LIMIT_MAX: '1', PORT_CHECKER_RATE_LIMIT_WINDOW: '60' } });
    const [open] = await listen(1);
    const { page, checks } = await openHome(running);
    const answers: Response[] = [];
    page.on('response', (response) => response.url().endsWith('/check-ports') && answers.push(response));
    const ports = page.getByLabel('Ports', { exact: true });
    const button = page.getByRole('button', { name: 'Check ports' });

    await ports.fill(String(open));
    await button.click();
    expect(await summary(page)).toBe('1 of 1 reachable at 127.0.0.1.');
    await button.click();
    await page.locator('#failure').waitFor();

    const refused = answers[1]!;
    expect(refused.status()).toBe(429);
    const retryAfter = Number(await refused.headerValue('retry-after'));
    expect(retryAfter).toBeGreaterThan(10); // too long to wait out: the page stops and says so
    const failure = await page.getByRole('alert').filter({ hasText: 'Too many checks' }).innerText();
    expect(failure).toContain(`Try again in ${describeWait(retryAfter)} (at `);
    expect(failure).toMatch(/The checker said: per-client limit/);
    expect(failure).not.toMatch(/[{}]/);
    expect(await status(page).innerText()).toBe('No port was checked.');
    expect(checks()).toHaveLength(2);
    await screenshot(page, 'desktop-rate-limited');
  });

  it('waits out a short 429 and goes on: every port gets its row', async () => {
    const running = await service.start({
      env: { PORT_CHECKER_RATE_LIMIT_MAX: '2', PORT_CHECKER_RATE_LIMIT_WINDOW: '2', PORT_CHECK_MAX_PORTS: '1' },
    });
    const ports = await closedPorts(3);
    const { page, checks } = await openHome(running);
    const statuses: number[] = [];
    page.on('response', (response) => response.url().endsWith('/check-ports') && statuses.push(response.status()));
    await page.evaluate(() => {
      const said: string[] = [];
      Object.assign(window, { statusSaid: said });
      const live = document.querySelector('#status')!;
      new MutationObserver(() => said.push(live.textContent ?? '')).observe(live, { childList: true, characterData: true, subtree: true });
    });

    await page.getByLabel('Ports', { exact: true }).fill(ports.join(', '));
    await page.getByRole('button', { name: 'Check ports' }).click();

    expect(await summary(page)).toBe('0 of 3 reachable at 127.0.0.1.');
    expect((await rows(page)).map(([port, state]) => [Number(port), state])).toEqual(ports.map((port) => [port, 'closed']));
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(checks().length).toBe(statuses.length);
    const said = await page.evaluate(() => (window as unknown as { statusSaid: string[] }).statusSaid);
    expect(said).toContainEqual(expect.stringMatching(/^The checker asks to wait [12] seconds?; the check goes on after that\./));
    expect(await page.locator('#failure').isVisible()).toBe(false);
  });

  it('works by keyboard alone: Tab to the field, type, Tab to the button, Enter, and the result is announced', async () => {
    const running = await service.start();
    const [open] = await listen(1);
    const [closed] = await closedPorts(1);
    const { page } = await openHome(running);
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim());

    const order: Array<string | undefined> = [];
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order).toEqual(['target', 'ports', 'Golem provider 7466, 50800-50900', 'SSH 22', 'Web 80, 443', 'check-button']);

    await page.keyboard.press('Shift+Tab'); // back to the presets: Enter fills the field
    await page.keyboard.press('Enter');
    expect(await page.getByLabel('Ports', { exact: true }).inputValue()).toBe('80, 443');

    for (let i = 0; i < 3; i += 1) await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('ports');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(`${open}, 70000`);
    await page.keyboard.press('Enter');
    expect(await page.locator('#ports-error').innerText()).toMatch(/^“70000” is not a port/);
    expect(await page.getByLabel('Ports', { exact: true }).getAttribute('aria-invalid')).not.toBeNull();
    expect(await focused()).toBe('ports');

    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(`${open}, ${closed}`);
    for (let i = 0; i < 4; i += 1) await page.keyboard.press('Tab');
    expect(await focused()).toBe('check-button');
    await page.keyboard.press('Enter');

    expect(await summary(page)).toBe('1 of 2 reachable at 127.0.0.1.');
    expect(await page.locator('#ports-error').isVisible()).toBe(false);
    expect(await status(page).getAttribute('aria-live')).toBe('polite');
    expect((await rows(page)).map(([port, state]) => [Number(port), state])).toEqual([
      [open, 'open'],
      [closed, 'closed'],
    ]);
    expect(await focused()).toBe('check-button');
  });

  it('asks for the API token when the deployment needs one, and keeps it in the tab', async () => {
    const token = 'page-token-0123456789abcdef';
    const running = await service.start({ env: { PORT_CHECKER_API_TOKEN: token } });
    const [open] = await listen(1);
    const { page, requests } = await openHome(running);
    const tokenField = page.getByLabel('API token');
    expect(await tokenField.isVisible()).toBe(true);

    await page.getByLabel('Ports', { exact: true }).fill(String(open));
    await page.getByRole('button', { name: 'Check ports' }).click();
    await page.getByRole('alert').filter({ hasText: 'This checker needs an API token' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');

    await tokenField.fill(token);
    await page.keyboard.press('Enter');
    expect(await summary(page)).toBe('1 of 1 reachable at 127.0.0.1.');
    expect(await page.evaluate(() => sessionStorage.getItem('port-checker:api-token'))).toBe(token);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    const last = requests.filter((request) => request.method() === 'POST').at(-1)!;
    expect(await last.headerValue('authorization')).toBe(`Bearer ${token}`);
  });

  it('is readable on a phone: nothing wider than the screen, large enough text and buttons', async () => {
    const running = await service.start({ env: { PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const [open] = await listen(1);
    const [closed] = await closedPorts(1);
    const filtered = await filteredPorts(1);
    listeners.push(filtered);
    const { page } = await openHome(running, PHONE);
    await screenshot(page, 'phone-start');

    await page.getByLabel('Ports', { exact: true }).fill(`${open}, ${closed}, ${filtered.ports[0]}`);
    await page.getByRole('button', { name: 'Check ports' }).click();
    expect(await summary(page)).toBe('1 of 3 reachable at 127.0.0.1.');

    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      inputFontPx: parseFloat(getComputedStyle(document.querySelector('#ports')!).fontSize),
      smallestButtonPx: Math.min(...[...document.querySelectorAll('button')].map((b) => b.getBoundingClientRect().height)),
      tableRight: document.querySelector('#results-table')!.getBoundingClientRect().right,
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(layout.tableRight).toBeLessThanOrEqual(PHONE.width);
    expect(layout.inputFontPx).toBeGreaterThanOrEqual(16); // smaller makes phones zoom in on focus
    expect(layout.smallestButtonPx).toBeGreaterThanOrEqual(44);
    await screenshot(page, 'phone-results');
  });

  it('under PORT_CHECKER_SELF_CHECK_ONLY offers no other address', async () => {
    const running = await service.start({ env: { PORT_CHECKER_SELF_CHECK_ONLY: 'true' }, workers: 0 });
    const { page } = await openHome(running);
    expect(await page.locator('#address-line').innerText()).toBe(
      'Your address, as this checker sees it: 127.0.0.1 (IPv4) This checker checks only this address.',
    );
    expect(await page.getByLabel('Address to check').isVisible()).toBe(false);
  });
});
