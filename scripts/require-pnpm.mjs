// prepack: npm pack would ship pnpm's `catalog:` versions unresolved, a tarball npm cannot install.
// npm_execpath names the packing tool itself (npm_config_user_agent is inherited from a parent pnpm).
import { basename } from 'node:path';

if (!basename(process.env.npm_execpath ?? '').startsWith('pnpm')) {
  console.error("Pack this package with pnpm pack: npm pack leaves pnpm's catalog: versions unresolved.");
  process.exit(1);
}
