/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// ^ for the callbacks that page.evaluate runs in the browser.
import { describe, expect, it } from 'vitest';
import { hasChromium } from '../support/chromium.js';
import { checkButton, homePageTests, PHONE, portsField, rows, screenshot, status, summary } from '../support/home-page.js';
import { closedPorts, filteredPorts } from '../support/listeners.js';

// The page for keyboard, screen reader and phone users, and what it shows per deployment, in
// headless Chromium against the real service. Every check probes 127.0.0.1.
const home = homePageTests();

describe.skipIf(!hasChromium)('the page at / for every visitor, in headless Chromium', () => {
  it('works by keyboard alone: Tab to the field, type, Tab to the button, Enter, and the result is announced', async () => {
    const running = await home.service.start();
    const [open] = await home.listen(1);
    const [closed] = await closedPorts(1);
    const { page } = await home.open(running);
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim());

    const order: Array<string | undefined> = [];
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order).toEqual(['target', 'ports', 'Golem provider 7466, 50800-50900', 'SSH 22', 'Web 80, 443', 'check-button']);

    await page.keyboard.press('Shift+Tab'); // back to the presets: Enter fills the field
    await page.keyboard.press('Enter');
    expect(await portsField(page).inputValue()).toBe('80, 443');

    for (let i = 0; i < 3; i += 1) await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('ports');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(`${open}, 70000`);
    await page.keyboard.press('Enter');
    expect(await page.locator('#ports-error').innerText()).toMatch(/^“70000” is not a port/);
    expect(await portsField(page).getAttribute('aria-invalid')).toBe('true');
    expect(await focused()).toBe('ports');

    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(`${open}, ${closed}`);
    for (let i = 0; i < 4; i += 1) await page.keyboard.press('Tab');
    expect(await focused()).toBe('check-button');
    await page.keyboard.press('Enter');

    expect(await summary(page)).toBe('1 of 2 reachable at 127.0.0.1.');
    expect(await page.locator('#ports-error').isVisible()).toBe(false);
    expect(await portsField(page).getAttribute('aria-invalid')).toBeNull();
    expect(await status(page).getAttribute('aria-live')).toBe('polite');
    expect((await rows(page)).map(([port, state]) => [Number(port), state])).toEqual([
      [open, 'open'],
      [closed, 'closed'],
    ]);
    expect(await focused()).toBe('check-button');
  });

  it('asks for the API token when the deployment needs one, and keeps it in the tab', async () => {
    const token = 'page-token-0123456789abcdef';
    const running = await home.service.start({ env: { PORT_CHECKER_API_TOKEN: token } });
    const [open] = await home.listen(1);
    const { page, requests } = await home.open(running);
    const tokenField = page.getByLabel('API token');
    expect(await tokenField.isVisible()).toBe(true);

    await portsField(page).fill(String(open));
    await checkButton(page).click();
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
    const running = await home.service.start({ env: { PORT_CHECK_TIMEOUT: '1', PORT_CHECK_RETRIES: '1' } });
    const [open] = await home.listen(1);
    const [closed] = await closedPorts(1);
    const filtered = home.keep(await filteredPorts(1));
    const { page } = await home.open(running, { viewport: PHONE });
    await screenshot(page, 'phone-start');

    await portsField(page).fill(`${open}, ${closed}, ${filtered.ports[0]}`);
    await checkButton(page).click();
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
    const running = await home.service.start({ env: { PORT_CHECKER_SELF_CHECK_ONLY: 'true' }, workers: 0 });
    const { page } = await home.open(running);
    expect(await page.locator('#address-line').innerText()).toBe(
      'Your address, as this checker sees it: 127.0.0.1 (IPv4) This checker checks only this address.',
    );
    expect(await page.getByLabel('Address to check').isVisible()).toBe(false);
  });
});
