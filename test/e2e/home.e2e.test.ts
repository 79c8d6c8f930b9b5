import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../support/repo.js';
import { startService, type Service } from '../support/service.js';

let service: Service;
beforeAll(async () => {
  service = await startService({ workers: 0 });
});
afterAll(async () => {
  await service?.stop();
});

const PUBLIC_DIR = repoPath('apps/api/public');

describe('GET /', () => {
  it('serves the page with a Content-Security-Policy that allows this origin only and no inline code', async () => {
    const response = await fetch(`${service.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const policy = Object.fromEntries(
      response.headers.get('content-security-policy')!.split(';').map((directive) => {
        const [name, ...values] = directive.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(policy).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self'",
      'connect-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    });
    const html = await response.text();
    expect(html).not.toMatch(/<script>|<style|\sstyle=|\son\w+=|https?:\/\//);
  });

  it('serves every file the page is made of from /assets, none naming another origin', async () => {
    const files = readdirSync(PUBLIC_DIR).filter((file) => file !== 'index.html');
    const html = await (await fetch(`${service.url}/`)).text();
    const linked = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => url !== '/docs');
    expect(linked.sort()).toEqual(['/assets/favicon.svg', '/assets/main.js', '/assets/style.css']);

    for (const file of files) {
      const served = await fetch(`${service.url}/assets/${file}`);
      expect(served.status, file).toBe(200);
      expect(served.headers.get('content-security-policy'), file).toMatch(/^default-src 'none'/);
      const text = await served.text();
      expect(text, file).toBe(readFileSync(`${PUBLIC_DIR}/${file}`, 'utf8'));
      // An SVG names its XML namespace with a URL that is never fetched.
      expect(text.replace('xmlns="http://www.w3.org/2000/svg"', ''), file).not.toMatch(/https?:\/\/|\/\/[\w.-]+\.\w/);
    }
  });

  it('answers files that are not the page with the JSON 404', async () => {
    for (const path of ['/assets/nope.js', '/assets/..%2Fpackage.json', '/assets/..%2Fsrc%2Fapp.ts', '/index.html']) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.json(), path).toEqual({ detail: { code: 'NOT_FOUND', message: expect.any(String) } });
    }
  });
});
