import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { openPorts, type Ports } from '../support/listeners.js';
import { startService, type Service } from '../support/service.js';

describe.skipIf(!hasChromium)('Swagger UI at /docs, in headless Chromium', () => {
  let service: Service;
  let open: Ports;
  let browser: Browser;
  let page: Page;
  const requested: string[] = [];

  beforeAll(async () => {
    service = await startService();
    open = await openPorts(1);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (request) => requested.push(request.url()));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await open?.close();
  });

  it('renders over plain http by a host name too, as a deployment without TLS is reached', async () => {
    // Chromium upgrades the subresources of a page with `upgrade-insecure-requests` to https,
    // which a plain-http deployment does not serve (localhost is exempt, hence the host name).
    const named = await launchChromium(['--host-resolver-rules=MAP docs.checker.test 127.0.0.1']);
    try {
      const namedPage = await named.newPage();
      await namedPage.goto(service.url.replace('127.0.0.1', 'docs.checker.test') + '/docs');
      await namedPage.locator('.opblock-post', { hasText: '/check-ports' }).waitFor({ timeout: 10_000 });
    } finally {
      await named.close();
    }
  });

  it('renders the POST /check-ports operation, with every asset from the service itself', async () => {
    await page.goto(`${service.url}/docs`);

    const operation = page.locator('.opblock-post', { hasText: '/check-ports' });
    await operation.waitFor();
    expect(await operation.locator('.opblock-summary-path').innerText()).toBe('/check-ports');
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${service.url}/`))).toEqual([]);
  });

  it('"Try it out" and Execute check a local listener and show the 200 result', async () => {
    const operation = page.locator('.opblock-post', { hasText: '/check-ports' });
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.locator('textarea.body-param__text').fill(JSON.stringify({ provider_ip: '127.0.0.1', ports: open.ports }));
    await operation.getByRole('button', { name: 'Execute' }).click();

    const live = operation.locator('.live-responses-table');
    await live.locator('.response-col_status', { hasText: '200' }).waitFor();
    const body = await live.locator('.response-col_description pre').first().innerText();
    expect(JSON.parse(body)).toMatchObject({
      success: true,
      results: { [open.ports[0]!]: { accessible: true, state: 'open' } },
      provider_ip: '127.0.0.1',
    });
  });
});
