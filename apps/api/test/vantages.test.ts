import { describe, expect, it } from 'vitest';
import type { ProbeOutcome, VantageInfo } from '@port-checker/shared';
import { judgePort, judgeTls, pickVantages, type VantageSeen } from '../src/checks/vantages.js';

const vantage = (id: string, region: string | null = null, network: string | null = null): VantageInfo => ({ id, region, network });
const outcome = (state: ProbeOutcome['state'], verified?: boolean): ProbeOutcome => ({
  state,
  error: state === 'open' ? null : state,
  attempts: 1,
  latencyMs: state === 'open' ? 1 : null,
  ...(verified !== undefined && { verified, verifyError: verified ? null : 'Challenge not received' }),
});
const finished = (id: string, found: ProbeOutcome): VantageSeen => ({ vantage: vantage(id), status: 'finished', outcome: found });
const silent = (id: string, status: 'timed_out' | 'offline' = 'timed_out'): VantageSeen => ({ vantage: vantage(id), status });

describe('pickVantages', () => {
  it('spreads over regions first, then networks', () => {
    const live = [vantage('eu-1', 'eu', 'AS1'), vantage('eu-2', 'eu', 'AS2'), vantage('us-1', 'us', 'AS1'), vantage('ap-1', 'ap', 'AS1')];
    for (let i = 0; i < 20; i += 1) {
      const picked = pickVantages(live, 3);
      expect(new Set(picked.map(({ region }) => region)).size).toBe(3);
    }
    // Two regions, four vantages, two picks: one from each region, and the networks differ too.
    const twoRegions = [vantage('a', 'eu', 'AS1'), vantage('b', 'eu', 'AS2'), vantage('c', 'us', 'AS1'), vantage('d', 'us', 'AS2')];
    for (let i = 0; i < 20; i += 1) {
      const picked = pickVantages(twoRegions, 2);
      expect(new Set(picked.map(({ region }) => region)).size).toBe(2);
      expect(new Set(picked.map(({ network }) => network)).size).toBe(2);
    }
  });

  it('chooses at random among equals, and gives fewer than asked when fewer are alive', () => {
    const live = [vantage('a'), vantage('b'), vantage('c')];
    const firsts = new Set(Array.from({ length: 60 }, () => pickVantages(live, 1)[0]!.id));
    expect(firsts).toEqual(new Set(['a', 'b', 'c']));
    expect(pickVantages(live.slice(0, 2), 3).map(({ id }) => id).sort()).toEqual(['a', 'b']);
    expect(pickVantages([], 3)).toEqual([]);
  });
});

describe('judgePort', () => {
  it('answers with what all agree on', () => {
    const verdict = judgePort([finished('a', outcome('open')), finished('b', outcome('open')), finished('c', outcome('open'))], 2, false);
    expect(verdict?.outcome.state).toBe('open');
    expect(verdict?.consensus).toMatchObject({ asked: 3, answered: 3, agree: 3, required: 2 });
  });

  it('answers with what the quorum agrees on when one vantage sees the port differently', () => {
    const verdict = judgePort([finished('a', outcome('closed')), finished('b', outcome('filtered')), finished('c', outcome('closed'))], 2, false);
    expect(verdict?.outcome.state).toBe('closed');
    expect(verdict?.consensus).toMatchObject({ asked: 3, answered: 3, agree: 2, required: 2 });
  });

  it('answers a split as not accessible, saying so, whatever one vantage found: never open on one voice', () => {
    const split = judgePort([finished('a', outcome('filtered')), finished('b', outcome('open'))], 2, false);
    expect(split?.outcome).toMatchObject({ state: 'error', latencyMs: null });
    expect(split?.outcome.error).toMatch(/^the vantages disagree: 1 found it (filtered|open), 1 found it (open|filtered); 2 must agree$/);
    expect(split?.consensus).toMatchObject({ asked: 2, answered: 2, agree: 1, required: 2 });
    const threeWays = judgePort([finished('a', outcome('error')), finished('b', outcome('open')), finished('c', outcome('closed'))], 2, false);
    expect(threeWays?.outcome.state).toBe('error');
    expect(threeWays?.consensus).toMatchObject({ answered: 3, agree: 1 });
  });

  it('with a quorum of half, two findings may each reach it: a split too', () => {
    const two = [finished('a', outcome('open')), finished('b', outcome('open')), finished('c', outcome('closed')), finished('d', outcome('closed'))];
    expect(judgePort(two, 2, false)?.outcome.state).toBe('error');
  });

  it('counts only finished probes: a vantage that timed out or was offline is no evidence', () => {
    const verdict = judgePort([silent('a'), finished('b', outcome('closed')), finished('c', outcome('closed'))], 2, false);
    expect(verdict?.consensus).toMatchObject({ asked: 3, answered: 2, agree: 2 });
    expect(judgePort([silent('a'), silent('b', 'offline'), finished('c', outcome('closed'))], 2, false)).toBeUndefined();
    expect(judgePort([silent('a'), silent('b'), silent('c')], 1, false)).toBeUndefined();
  });

  it('with a challenge, tells a verified open port from an unverified one', () => {
    const verdict = judgePort([finished('a', outcome('open', true)), finished('b', outcome('open', false)), finished('c', outcome('open', true))], 2, true);
    expect(verdict?.outcome.verified).toBe(true);
    expect(verdict?.consensus.agree).toBe(2);
    const split = judgePort([finished('a', outcome('open', false)), finished('b', outcome('open', true))], 2, true);
    expect(split?.outcome).toMatchObject({ state: 'error', verified: false });
    expect(split?.outcome.error).toContain('found it open and verified');
  });
});

describe('judgeTls', () => {
  const handshake = (id: string, valid: boolean): VantageSeen<{ valid: boolean; error: string | null; notAfter: string | null }> => ({
    vantage: vantage(id),
    status: 'finished',
    outcome: { valid, error: valid ? null : 'handshake failed: certificate has expired', notAfter: null },
  });

  it('is valid only when the quorum of handshakes was; a split is not valid, saying so', () => {
    expect(judgeTls([handshake('a', true), handshake('b', true), handshake('c', false)], 2)?.outcome.valid).toBe(true);
    expect(judgeTls([handshake('a', false), handshake('b', true), handshake('c', false)], 2)?.outcome).toMatchObject({ valid: false, error: 'handshake failed: certificate has expired' });
    const split = judgeTls([handshake('a', true), handshake('b', false), { vantage: vantage('c'), status: 'timed_out' }], 2);
    expect(split?.outcome).toEqual({ valid: false, error: 'the vantages disagree: 1 found it valid, 1 found it not valid; 2 must agree', notAfter: null });
    expect(split?.consensus).toMatchObject({ asked: 3, answered: 2, agree: 1, required: 2 });
  });
});
