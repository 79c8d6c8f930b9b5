// @ts-check
/**
 * Reads what a person types in "Ports": numbers and ranges separated by commas or spaces
 * (`7466, 50800-50900`). Returns the unique ports in the order given; throws a RangeError
 * whose message names the entry that is not a port.
 * @param {string} text
 * @returns {number[]}
 */
export function parsePorts(text) {
  // "50800 - 50900" and "50800–50900" (an en dash, as typeset guides print it) are ranges too.
  const entries = text.replace(/\s*[-–]\s*/g, '-').split(/[\s,;]+/).filter(Boolean);
  if (entries.length === 0) throw new RangeError('Type at least one port, such as 7466, or a range such as 50800-50900.');
  const ports = new Set();
  for (const entry of entries) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(entry);
    const first = Number(match?.[1]);
    const last = match?.[2] === undefined ? first : Number(match[2]);
    if (!match || !isPort(first) || !isPort(last)) {
      throw new RangeError(`“${entry}” is not a port: ports are whole numbers from 1 to 65535, ranges look like 50800-50900.`);
    }
    if (last < first) throw new RangeError(`“${entry}” runs backwards: write the lower port first, as in ${last}-${first}.`);
    for (let port = first; port <= last; port += 1) ports.add(port);
  }
  return [...ports];
}

/**
 * Splits ports into lists of at most `size`: one request each.
 * @param {number[]} ports
 * @param {number} size
 * @returns {number[][]}
 */
export function chunk(ports, size) {
  const chunks = [];
  for (let i = 0; i < ports.length; i += size) chunks.push(ports.slice(i, i + size));
  return chunks;
}

/** @param {number} n */
const isPort = (n) => Number.isInteger(n) && n >= 1 && n <= 65535;
