#!/usr/bin/env node
// The workspace's `port-checker` command runs the built CLI; `pnpm build` makes it.
try {
  await import('../dist/cli.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(`port-checker is not built: run \`pnpm build\` first (${err.message})\n`);
  process.exit(2);
}
