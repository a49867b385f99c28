/** Milliseconds since the epoch. Injected everywhere so that tests never depend on wall time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
