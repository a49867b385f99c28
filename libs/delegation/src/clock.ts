/** Milliseconds since the epoch. Injected so that tests (and the e2e clock offset) move time instead of waiting for it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
