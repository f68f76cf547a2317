import { describe, expect, it } from 'vitest';
import { createLineSplitter } from './line-splitter.ts';

function split(chunks: string[], maxLineBytes: number, keepHead = false) {
  const events: string[] = [];
  const splitter = createLineSplitter({
    maxLineBytes,
    keepHead,
    onLine: (line) => events.push(`line:${line.toString()}`),
    onOverflow: (head) => events.push(`overflow:${head.toString()}`),
  });
  for (const chunk of chunks) splitter.push(Buffer.from(chunk));
  return { events, rest: splitter.end().toString() };
}

describe('createLineSplitter', () => {
  it('joins lines across chunks and splits several lines in one chunk', () => {
    expect(split(['ab', 'c\nde\n\nf', 'g'], 10)).toEqual({
      events: ['line:abc', 'line:de', 'line:'],
      rest: 'fg',
    });
  });

  it('keeps a line of exactly maxLineBytes and drops a longer one up to its newline', () => {
    expect(split(['12345\n123456', '789\nok\n'], 5)).toEqual({
      events: ['line:12345', 'overflow:', 'line:ok'],
      rest: '',
    });
  });

  it('reports an over-long line once, however many chunks it spans', () => {
    expect(split(['xxxx', 'xxxx', 'xxxx', 'x\nok\n'], 3)).toEqual({
      events: ['overflow:', 'line:ok'],
      rest: '',
    });
  });

  it('hands over the head of an over-long line when asked to', () => {
    expect(split(['abc', 'defgh\nok\n'], 4, true)).toEqual({
      events: ['overflow:abcd', 'line:ok'],
      rest: '',
    });
  });

  it('forgets an unterminated over-long line at the end', () => {
    expect(split(['toolong'], 3)).toEqual({ events: ['overflow:'], rest: '' });
  });
});
