/**
 * Reads port lists as providers write them: `7466,50800-50900`, several lists allowed.
 * Returns the unique ports in the order given; throws a RangeError naming the bad part.
 */
export function parsePortList(lists: readonly string[]): number[] {
  const ports = new Set<number>();
  for (const part of lists.flatMap((list) => list.split(','))) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const first = Number(match?.[1]);
    const last = match?.[2] === undefined ? first : Number(match[2]);
    if (!match || !isPort(first) || !isPort(last) || last < first) {
      throw new RangeError(`${JSON.stringify(part)} is not a port (1-65535) or a range such as 50800-50900`);
    }
    for (let port = first; port <= last; port += 1) ports.add(port);
  }
  if (ports.size === 0) throw new RangeError('no ports given');
  return [...ports];
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
