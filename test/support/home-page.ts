/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// ^ for the callbacks that page.evaluate runs in the browser.
import { mkdirSync } from 'node:fs';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './chromium.js';
import { openPortAt, openPorts, type Host, type Ports } from './listeners.js';
import type { Service } from './service.js';
import { servicePerTest, type ServicePerTest } from './service-per-test.js';

export const DESKTOP = { width: 1280, height: 900 };
/**
 * A name for the page's origin as a real deployment has one (not a loopback address, which
 * browsers treat specially), resolved by Chromium itself to 127.0.0.1: no DNS, no other traffic.
 */
export const CHECKER_HOSTNAME = 'port-checker.test';
export const PHONE = { width: 390, height: 844 };
// SCREENSHOTS_DIR=… saves what the page looks like, for a person to look at.
const SCREENSHOTS_DIR = process.env.SCREENSHOTS_DIR;

export interface OpenedPage {
  page: Page;
  /** e.g. http://port-checker.test:41371 */
  origin: string;
  /** Every request the page made, in order. */
  requests: Request[];
  /** The POST /check-ports requests: the ports each carried. */
  checks(): number[][];
  consoleErrors: string[];
}

export interface HomePageTests {
  service: ServicePerTest;
  /**
   * Opens `/` of the service in a fresh browser context and waits for the caller's address;
   * `byName` opens it as http://port-checker.test:<port>/.
   */
  open(running: Service, options?: { viewport?: typeof DESKTOP; caller?: string; byName?: boolean }): Promise<OpenedPage>;
  /** Listeners closed after the file's tests. */
  listen(count: number, host?: Host): Promise<number[]>;
  keep(ports: Ports): Ports;
}

/** One Chromium per file, a service per test (every limit from zero), listeners closed at the end. */
export function homePageTests(): HomePageTests {
  const service = servicePerTest();
  let browser: Browser;
  const listeners: Ports[] = [];
  beforeAll(async () => {
    browser = await launchChromium([`--host-resolver-rules=MAP ${CHECKER_HOSTNAME} 127.0.0.1`]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(listeners.map((ports) => ports.close()));
  });
  const keep = (ports: Ports): Ports => (listeners.push(ports), ports);

  return {
    service,
    keep,
    async listen(count, host) {
      return keep(await openPorts(count, host)).ports;
    },
    async open(running, { viewport = DESKTOP, caller = '127.0.0.1', byName = false } = {}) {
      const origin = byName ? running.url.replace('127.0.0.1', CHECKER_HOSTNAME) : running.url;
      const page = await (await browser.newContext({ viewport })).newPage();
      const requests: Request[] = [];
      const consoleErrors: string[] = [];
      page.on('request', (request) => requests.push(request));
      page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      await page.goto(`${origin}/`);
      await page.locator('#caller-address', { hasText: caller }).waitFor();
      const checks = () =>
        requests
          .filter((request) => request.method() === 'POST' && request.url() === `${origin}/check-ports`)
          .map((request) => (JSON.parse(request.postData()!) as { ports: number[] }).ports);
      return { page, origin, requests, checks, consoleErrors };
    },
  };
}

/**
 * `count` consecutive loopback ports, each free when chosen, so that a range can be typed: below
 * Linux's ephemeral range (32768+), as `bindablePorts`, so no outgoing connection takes one meanwhile.
 */
export async function consecutivePorts(count: number): Promise<number[]> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    const bound = await Promise.allSettled(ports.map((port) => openPortAt(port)));
    await Promise.all(bound.map((result) => result.status === 'fulfilled' && result.value.close()));
    if (bound.every((result) => result.status === 'fulfilled')) return ports;
  }
}

export const portsField = (page: Page) => page.getByLabel('Ports', { exact: true });
export const checkButton = (page: Page) => page.getByRole('button', { name: 'Check ports' });
export const status = (page: Page) => page.getByRole('status');

/** The result table's cells, row by row. */
export const rows = (page: Page): Promise<string[][]> =>
  page.locator('#results-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));

/** Waits for the check to end and returns the live region's summary. */
export async function summary(page: Page): Promise<string> {
  await status(page).filter({ hasText: /reachable at|No port was checked/ }).waitFor();
  return status(page).innerText();
}

/** Records, from now on, every text the live region says: read with `said(page)`. */
export async function recordStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const said: string[] = [];
    Object.assign(window, { statusSaid: said });
    const live = document.querySelector('#status')!;
    new MutationObserver(() => said.push(live.textContent ?? '')).observe(live, { childList: true, characterData: true, subtree: true });
  });
}
export const said = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { statusSaid: string[] }).statusSaid);

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS_DIR) return;
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS_DIR}/${name}.png`, fullPage: true });
}
