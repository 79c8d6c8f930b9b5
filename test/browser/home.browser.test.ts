/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// ^ for the callbacks that page.evaluate runs in the browser.
import type { Response } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { describeWait } from '../../apps/api/public/wait-words.js';
import { hasChromium } from '../support/chromium.js';
import {
  checkButton,
  consecutivePorts,
  homePageTests,
  portsField,
  recordStatus,
  rows,
  said,
  screenshot,
  status,
  summary,
} from '../support/home-page.js';
import { closedPorts, filteredPorts, openPortAt, openPorts } from '../support/listeners.js';
import { VANTAGES } from '../support/vantages.js';

// What the page checks and how it talks to the API, in headless Chromium against the real
// service. Every check probes 127.0.0.1 (or ::1), the address the page's own requests come from.
const home = homePageTests();

describe.skipIf(!hasChromium)('the page at /, in headless Chromium', () => {
  it('loads over plain http by name with every request to its own origin, no console error, and shows the address the service sees', async () => {
    const running = await home.service.start({ workers: 0 });
    const { page, origin, requests, consoleErrors } = await home.open(running, { byName: true });

    const urls = requests.map((request) => request.url());
    expect(origin).toMatch(/^http:\/\/port-checker\.test:\d+$/);
    expect(urls.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(urls).toEqual(expect.arrayContaining([`${origin}/assets/main.js`, `${origin}/assets/style.css`, `${origin}/whoami`]));
    expect(await page.locator('#caller-address').innerText()).toBe('127.0.0.1 (IPv4)');
    // Local targets are allowed here, so the address may be changed; it starts as the caller's own.
    expect(await page.getByLabel('Address to check').inputValue()).toBe('127.0.0.1');
    expect(await page.getByLabel('API token').isVisible()).toBe(false);
    // Chromium notes that helmet's Cross-Origin-Opener-Policy has no effect over plain http: not the page's error.
    expect(consoleErrors.filter((error) => !error.startsWith('The Cross-Origin-Opener-Policy header has been ignored'))).toEqual([]);
    await screenshot(page, 'desktop-start');
  });

  it('typing open, closed and filtered ports and pressing "Check ports" shows a row per port with its state', async () => {
    const running = await home.service.start({ env: { PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const [open] = await home.listen(1);
    const [closed] = await closedPorts(1);
    const filtered = home.keep(await filteredPorts(1));
    const { page, checks } = await home.open(running);

    await portsField(page).fill(`${open}, ${closed}, ${filtered.ports[0]}`);
    await checkButton(page).click();

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

  it('from a checker with three vantages, says under each port how many places agree and what each saw', async () => {
    const running = await home.service.start({ workers: 0, env: { PORT_CHECK_VANTAGES: '3' } });
    for (const { id, source, region, network } of VANTAGES) {
      await running.startWorkerService({}, { vantage: { id, region, network }, sourceAddress: source });
    }
    const [open] = await home.listen(1);
    const { page } = await home.open(running);

    await portsField(page).fill(String(open));
    await checkButton(page).click();

    expect(await summary(page)).toBe('1 of 1 reachable at 127.0.0.1.');
    const [[, state, , meaning]] = (await rows(page)) as [string[]];
    expect(state).toBe('open');
    expect(meaning).toMatch(/^Reachable\s*Seen so from 3 of 3 places that answered \((.+)\)\.$/);
    for (const { id, region } of VANTAGES) expect(meaning).toContain(`${id}, ${region}: open`);
  });

  it('sends a long list in requests of the size /whoami gives, a few at a time, with progress', async () => {
    const running = await home.service.start({ env: { PORT_CHECK_MAX_PORTS: '4', PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const range = await consecutivePorts(10);
    home.keep(await openPortAt(range[2]!));
    home.keep(await openPortAt(range[7]!));
    // A filtered port makes the first request the slowest, so the others finish while it runs.
    const filtered = home.keep(await filteredPorts(1));
    const { page, requests, checks } = await home.open(running);
    const finished: string[] = [];
    page.on('requestfinished', (request) => request.method() === 'POST' && finished.push(request.postData()!));
    await recordStatus(page);
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.assign(window, { progressSeen: seen });
      const progress = document.querySelector('#progress')!;
      new MutationObserver(() => seen.push(progress.getAttribute('value') ?? '')).observe(progress, { attributes: true, attributeFilter: ['value'] });
    });

    await portsField(page).fill(`${filtered.ports[0]}, ${range[0]}-${range[9]}`);
    await checkButton(page).click();

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
    expect(await said(page)).toContain('Checking ports at 127.0.0.1: 7 of 11 done.');
    expect(await page.locator('#progress').isVisible()).toBe(false);
    const states = new Map((await rows(page)).map(([port, state]) => [Number(port), state]));
    expect([...states.keys()]).toEqual([filtered.ports[0], ...range]);
    expect([...states.values()].filter((state) => state === 'open')).toHaveLength(2);
    expect(states.get(range[2]!)).toBe('open');
    expect(states.get(filtered.ports[0]!)).toBe('filtered');
    expect(requests.every((request) => request.url().startsWith(`${running.url}/`))).toBe(true);
  });

  it('a 429 from the per-client limit shows, in words, how long to wait', async () => {
    const running = await home.service.start({ env: { PORT_CHECKER_RATE_LIMIT_PORTS: '1', PORT_CHECKER_RATE_LIMIT_WINDOW: '60' } });
    const [open] = await home.listen(1);
    const { page, checks } = await home.open(running);
    const answers: Response[] = [];
    page.on('response', (response) => response.url().endsWith('/check-ports') && answers.push(response));
    const ports = portsField(page);
    const button = checkButton(page);

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
    const running = await home.service.start({
      env: { PORT_CHECKER_RATE_LIMIT_PORTS: '2', PORT_CHECKER_RATE_LIMIT_WINDOW: '2', PORT_CHECK_MAX_PORTS: '1' },
    });
    const ports = await closedPorts(3);
    const { page, checks } = await home.open(running);
    const statuses: number[] = [];
    page.on('response', (response) => response.url().endsWith('/check-ports') && statuses.push(response.status()));
    await recordStatus(page);

    await portsField(page).fill(ports.join(', '));
    await checkButton(page).click();

    expect(await summary(page)).toBe('0 of 3 reachable at 127.0.0.1.');
    expect((await rows(page)).map(([port, state]) => [Number(port), state])).toEqual(ports.map((port) => [port, 'closed']));
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(checks().length).toBe(statuses.length);
    expect(await said(page)).toContainEqual(expect.stringMatching(/^The checker asks to wait [12] seconds?; the check goes on after that\./));
    expect(await page.locator('#failure').isVisible()).toBe(false);
  });

  it('over IPv6 shows the visitor its IPv6 address and checks that', async () => {
    const running = await home.service.start({ env: { PORT_CHECKER_HOST: '::1' } });
    const open = home.keep(await openPorts(1, '::1'));
    const { page, checks } = await home.open(running, { caller: '::1' });
    expect(await page.locator('#caller-address').innerText()).toBe('::1 (IPv6)');

    await portsField(page).fill(String(open.ports[0]));
    await checkButton(page).click();

    expect(await summary(page)).toBe('1 of 1 reachable at ::1.');
    expect(checks()).toEqual([open.ports]);
  });

  it('says in words when the checker could not finish in time (503 CHECK_FAILED: no worker took the probes)', async () => {
    const running = await home.service.start({ env: { PORT_CHECK_DEADLINE: '1' }, workers: 0 });
    const [closed] = await closedPorts(1);
    const { page } = await home.open(running);

    await portsField(page).fill(String(closed));
    await checkButton(page).click();

    const failure = await page.getByRole('alert').filter({ hasText: 'could not finish' }).innerText();
    expect(failure.split(/\n+/)).toEqual([
      'The checker could not finish every port in time.',
      expect.stringMatching(/^Try again in \d+ seconds? \(at .+\)\.$/),
      expect.stringMatching(/^The checker said: could not check every port/),
    ]);
    expect(await status(page).innerText()).toBe('No port was checked.');
  });
});
