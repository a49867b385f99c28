// Assertions on the admin and resource APIs' answers, shared by the e2e specs that drive them.
import { expect } from '@jest/globals';
import type { HttpResult } from './platform.js';

/** An RFC 9457 problem as the gateway writes it (policy denials add `reasons`, validation `errors`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  reasons?: string[];
  errors?: Array<{ pointer?: string; parameter?: string; detail: string }>;
  details?: Record<string, unknown>;
}

/** The body of an answer that must have `status` (200 by default); fails with the body's start otherwise. */
export function ok<T>(result: HttpResult, status = 200): T {
  if (result.status !== status) throw new Error(`expected ${status}, got ${result.status}: ${result.text.slice(0, 500)}`);
  return result.json as T;
}

/** The problem+json body of an answer that must have `status`. */
export function problem(result: HttpResult, status: number): Problem {
  if (result.status !== status) throw new Error(`expected ${status}, got ${result.status}: ${result.text.slice(0, 500)}`);
  expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return result.json as Problem;
}
