import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it, jest } from '@jest/globals';
import { TraceConsoleLogger } from './trace-logger.js';

function captured(write: () => void): string {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    write();
  } finally {
    spy.mockRestore();
  }
  return lines.join('');
}

describe('TraceConsoleLogger', () => {
  it('case=should write one JSON object per line with the service name when LOG_FORMAT is json', () => {
    const output = captured(() => new TraceConsoleLogger('token', { json: true }).log('issued', 'TokenEndpoints'));
    const entry = JSON.parse(output.trim()) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'log', message: 'issued', context: 'TokenEndpoints', service: 'token' });
    // No span is active here: no trace id is invented.
    expect(entry.trace_id).toBeUndefined();
  });

  it('case=should write plain text lines otherwise', () => {
    const output = captured(() => new TraceConsoleLogger('token').log('issued', 'TokenEndpoints'));
    // Colours (ANSI escapes) stripped: the point is the text.
    expect(stripVTControlCharacters(output)).toMatch(/\[TokenEndpoints\] issued/);
    expect(() => JSON.parse(output.trim())).toThrow();
  });
});
