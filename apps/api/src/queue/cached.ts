/**
 * Wraps a Redis read so that it starts at most once per `maxAgeMs`, however often it is asked:
 * callers in between share the last read, its failure or the read still in flight. Anyone can
 * call GET /ready as often as they like; Redis should not notice.
 */
export function cached<T>(read: () => Promise<T>, maxAgeMs = 1000): () => Promise<T> {
  let last: { startedAt: number; result: Promise<T> } | undefined;
  return () => {
    const now = performance.now();
    if (!last || now - last.startedAt >= maxAgeMs) {
      const result = read();
      result.catch(() => {}); // callers see the failure; an unasked-for one is no crash
      last = { startedAt: now, result };
    }
    return last.result;
  };
}
