import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import helmet from 'helmet';
import { AppError } from '@port-checker/shared';

// The page's files live beside src/ and dist/, so the same path serves tests and builds.
const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

/**
 * Nothing but this origin, and no inline code: the page works offline and an injected tag
 * can neither run nor send anything away. No upgrade-insecure-requests (helmet's default):
 * a checker reached over plain http would otherwise load its own files over https and fail.
 */
const pagePolicy = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
});

/** GET / (the page for people) and GET /assets/* (its script, styles and icon). */
export function homeRouter(): Router {
  // Only the files there at start: a request names one of them or gets the JSON 404.
  const files = new Set(readdirSync(PUBLIC_DIR));
  const router = Router();
  router.get('/', pagePolicy, (_req, res) => {
    res.sendFile('index.html', { root: PUBLIC_DIR });
  });
  // max-age 0 with ETags: after an upgrade a browser never mixes old and new files.
  router.get('/assets/:file', pagePolicy, (req, res) => {
    const { file } = req.params;
    if (!files.has(file)) throw new AppError('NOT_FOUND', `no such file: /assets/${file}`);
    res.sendFile(file, { root: PUBLIC_DIR, maxAge: 0 });
  });
  return router;
}
