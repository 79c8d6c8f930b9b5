import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Router } from 'express';
import { AppError } from '@port-checker/shared';
import { createOpenApiDocument } from './openapi.js';

// Swagger UI's files come from the swagger-ui-dist package and are served by the API itself:
// providers' browsers, and the machines this runs on, may have no way to reach a CDN.
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

// No inline script, so that a strict Content-Security-Policy (script-src 'self') still allows the page.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Golem port checker API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** GET /openapi.json (the document, generated once) and GET /docs (Swagger UI on it). */
export function docsRouter(): Router {
  const document = createOpenApiDocument();
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('js').send(INIT);
  });
  router.get('/docs/:file', (req, res) => {
    const { file } = req.params;
    if (!SWAGGER_UI_FILES.has(file)) throw new AppError('NOT_FOUND', `no such file: /docs/${file}`);
    res.sendFile(file, { root: SWAGGER_UI_DIR, maxAge: '1d' });
  });
  return router;
}
