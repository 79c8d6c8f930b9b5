/**
 * One line on a terminal's stderr, redrawn every second while the checker works (it may take up
 * to the checker's deadline). Nothing when stderr is not a terminal, so scripts get clean output.
 */
export function startProgressLine(
  stderr: NodeJS.WritableStream & { isTTY?: boolean },
  servers: readonly string[],
  portCount: number,
) {
  if (!stderr.isTTY) return { onAttempt: undefined, stop: () => {} };
  const started = performance.now();
  let asking = 0;
  const draw = (): void => {
    const seconds = Math.floor((performance.now() - started) / 1000);
    const moved = asking > 0 ? ` (${asking} did not answer)` : '';
    stderr.write(`\r\x1b[2KChecking ${portCount} port${portCount === 1 ? '' : 's'} with ${servers[asking]}${moved}… ${seconds} s`);
  };
  draw();
  const timer = setInterval(draw, 1000);
  return {
    onAttempt: ({ error }: { error: string | null }) => {
      if (error === null || asking + 1 >= servers.length) return;
      asking += 1;
      draw();
    },
    stop: () => {
      clearInterval(timer);
      stderr.write('\r\x1b[2K');
    },
  };
}
