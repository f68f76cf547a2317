import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.ts';

/** Randomness that always returns `value`, to pin the jitter to one end of its range. */
const fixed = (value: number) => () => value;

describe('createBackoff', () => {
  it('keeps every delay within [base/2, base], base doubling up to the cap', () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 1_000 });
    const bases = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    for (const base of bases) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(base / 2);
      expect(delay).toBeLessThanOrEqual(base);
    }
  });

  it('spans the whole jitter range', () => {
    expect(createBackoff({ initialMs: 100, random: fixed(0) }).next()).toBe(50);
    expect(createBackoff({ initialMs: 100, random: fixed(1) }).next()).toBe(100);
    expect(createBackoff({ initialMs: 100, random: fixed(0.5) }).next()).toBe(75);
  });

  it('never exceeds maxMs, however many failures', () => {
    const backoff = createBackoff({ initialMs: 5, maxMs: 20, factor: 3, random: fixed(1) });
    const delays = Array.from({ length: 50 }, () => backoff.next());
    expect(delays.slice(0, 3)).toEqual([5, 15, 20]);
    expect(Math.max(...delays)).toBe(20);
    expect(backoff.maxMs).toBe(20);
  });

  it('stays finite after very many failures', () => {
    const backoff = createBackoff({ initialMs: 1, maxMs: 100, random: fixed(1) });
    for (let i = 0; i < 2_000; i++) backoff.next();
    expect(backoff.next()).toBe(100);
  });

  it('starts over after reset', () => {
    const backoff = createBackoff({ initialMs: 10, maxMs: 1_000, random: fixed(1) });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 40]);
    backoff.reset();
    expect([backoff.next(), backoff.next()]).toEqual([10, 20]);
  });

  it('keeps a constant delay with factor 1', () => {
    const backoff = createBackoff({ initialMs: 30, maxMs: 30, factor: 1, random: fixed(1) });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([30, 30, 30]);
  });

  it('defaults to 250 ms growing to 30 s', () => {
    const backoff = createBackoff({ random: fixed(1) });
    expect(backoff.next()).toBe(250);
    expect(backoff.next()).toBe(500);
    expect(backoff.maxMs).toBe(30_000);
  });

  it.each([
    [{ initialMs: 0 }],
    [{ initialMs: -5 }],
    [{ initialMs: Number.NaN }],
    [{ initialMs: 100, maxMs: 50 }],
    [{ maxMs: Number.NaN }],
    [{ factor: 0.5 }],
    [{ factor: Number.NaN }],
  ])('throws at creation for %j', (options) => {
    expect(() => createBackoff(options)).toThrow(TypeError);
    expect(() => createBackoff(options)).toThrow(/initialMs > 0, maxMs >= initialMs and factor >= 1/);
  });
});
