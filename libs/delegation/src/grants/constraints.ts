import { type DelegationConstraints, WEEKDAYS, type Weekday } from '@latchkey/contracts';

/** What the evaluation needs of a grant. */
export interface GrantTerms {
  status: string;
  notBefore: Date;
  expiresAt: Date;
  constraints: DelegationConstraints | null;
  uses: number;
}

/** Why a grant cannot be used now. */
export type Refusal = 'inactive' | 'not_yet_valid' | 'expired' | 'weekday' | 'time_of_day' | 'used_up';

export type Verdict = { usable: true } | { usable: false; refusal: Refusal; reason: string };

export interface EvaluationOptions {
  /**
   * Whether `maxUses` is part of the verdict: yes where a use is about to be counted (issuing a
   * delegated token, re-delegating), no for CheckGrant — a token already issued was counted when it was.
   */
  countUses: boolean;
}

const USABLE: Verdict = { usable: true };

/**
 * Is the grant usable at `now`: active, inside [notBefore, expiresAt), on an allowed weekday and inside
 * its time-of-day window in the grant's time zone, and (when uses count) with uses left.
 */
export function evaluateGrant(grant: GrantTerms, now: Date, options: EvaluationOptions): Verdict {
  if (grant.status !== 'active') return refuse('inactive', `the grant is ${grant.status}`);
  if (now.getTime() < grant.notBefore.getTime()) return refuse('not_yet_valid', `the grant is not valid before ${grant.notBefore.toISOString()}`);
  if (now.getTime() >= grant.expiresAt.getTime()) return refuse('expired', `the grant expired at ${grant.expiresAt.toISOString()}`);
  const constraints = grant.constraints;
  if (!constraints) return USABLE;
  const timing = evaluateSchedule(constraints, now);
  if (!timing.usable) return timing;
  if (options.countUses && constraints.maxUses !== undefined && grant.uses >= constraints.maxUses) {
    return refuse('used_up', `the grant is used up (${grant.uses} of ${constraints.maxUses} uses)`);
  }
  return USABLE;
}

/**
 * A grant and the grants it was re-delegated from, the root first and the grant itself last: usable only
 * when every one of them is (a re-delegation can never be used where or when its parent could not).
 */
export function evaluateChain(chain: readonly GrantTerms[], now: Date, options: EvaluationOptions): Verdict {
  if (!chain.length) throw new Error('an empty chain');
  for (let index = chain.length - 1; index >= 0; index--) {
    const verdict = evaluateGrant(chain[index]!, now, options);
    if (verdict.usable) continue;
    if (index === chain.length - 1) return verdict;
    return refuse(verdict.refusal, `the grant it was re-delegated from cannot be used: ${verdict.reason.replace(/^the grant /, 'it ')}`);
  }
  return USABLE;
}

/**
 * Weekdays and the time-of-day window, in the grant's IANA time zone. A window whose `to` is before its
 * `from` crosses midnight (`22:00`–`06:00`) and belongs to the day it starts on: with weekdays mon–fri,
 * Friday 23:00 and Saturday 05:00 are inside, Monday 05:00 is not (that is Sunday's night). `to` is
 * exclusive. Local wall-clock time comes from Intl, so DST days need nothing special: on a spring-forward
 * day the skipped hour never happens, on a fall-back day the repeated hour is inside a window twice.
 */
export function evaluateSchedule(constraints: DelegationConstraints, now: Date): Verdict {
  if (!constraints.weekdays && !constraints.timeOfDay) return USABLE;
  const local = localTime(now, constraints.timeZone);
  let day = local.weekday;
  if (constraints.timeOfDay) {
    const from = minutesOf(constraints.timeOfDay.from);
    const to = minutesOf(constraints.timeOfDay.to);
    const inside = from < to ? local.minutes >= from && local.minutes < to : local.minutes >= from || local.minutes < to;
    if (!inside) {
      return refuse('time_of_day', `the grant is usable only between ${constraints.timeOfDay.from} and ${constraints.timeOfDay.to} (${constraints.timeZone})`);
    }
    // After midnight in a window that crosses it: the window started the day before.
    if (from > to && local.minutes < to) day = previousDay(day);
  }
  if (constraints.weekdays && !constraints.weekdays.includes(day)) {
    return refuse('weekday', `the grant is usable only on ${constraints.weekdays.join(', ')} (${constraints.timeZone})`);
  }
  return USABLE;
}

export interface LocalTime {
  weekday: Weekday;
  /** Minutes since local midnight, 0–1439. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The weekday and wall-clock time at `now` in an IANA time zone. */
export function localTime(now: Date, timeZone: string): LocalTime {
  let weekday: Weekday | undefined;
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(now)) {
    if (part.type === 'weekday') weekday = part.value.slice(0, 3).toLowerCase() as Weekday;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (!weekday || !WEEKDAYS.includes(weekday)) throw new Error(`no weekday for ${now.toISOString()} in ${timeZone}`);
  return { weekday, minutes: hour * 60 + minute };
}

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number);
  return hours! * 60 + minutes!;
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + WEEKDAYS.length - 1) % WEEKDAYS.length]!;
}

function refuse(refusal: Refusal, reason: string): Verdict {
  return { usable: false, refusal, reason };
}
