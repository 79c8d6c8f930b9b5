import { readRepoFile } from './repo.js';

/** A `curl` the README tells a newcomer to type, and the answer it shows (the next ```json block), if any. */
export interface ReadmeExample {
  curl: string;
  shown?: Record<string, unknown>;
}

/** The README's curl examples, continuation lines joined, each with the answer the README shows for it. */
export function readmeExamples(readme = readRepoFile('README.md')): ReadmeExample[] {
  const blocks = [...readme.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map(([, lang, text]) => ({ lang: lang!, text: text! }));
  const examples: ReadmeExample[] = [];
  blocks.forEach(({ lang, text }, index) => {
    if (lang !== 'sh') return;
    const curls = text.replace(/\\\n\s*/g, '').split('\n').filter((line) => line.startsWith('curl '));
    const next = blocks[index + 1];
    for (const curl of curls) {
      examples.push({ curl, ...(curls.length === 1 && next?.lang === 'json' && { shown: JSON.parse(next.text) as Record<string, unknown> }) });
    }
  });
  return examples;
}

/**
 * What of an answer a reader compares with the README: states, codes, words and counts, never
 * timings (latency_ms is kept as "a number" or null).
 */
export function essentials(answer: Record<string, unknown>): Record<string, unknown> {
  const { results, not_after: notAfter, ...rest } = answer;
  const essential: Record<string, unknown> = { ...rest };
  if (notAfter !== undefined) essential.not_after = notAfter === null ? null : 'a date';
  if (results && typeof results === 'object') {
    essential.results = Object.fromEntries(
      Object.entries(results as Record<string, Record<string, unknown>>).map(([port, { latency_ms: latency, ...result }]) => [
        port,
        { ...result, latency_ms: latency === null ? null : 'a number' },
      ]),
    );
  }
  return essential;
}
