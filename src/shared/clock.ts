// The one clock shape of the codebase: a function that returns the current time in
// milliseconds since the Unix epoch. Code that needs a Date wraps it (`new Date(clock())`);
// tests pass a fake (`() => 1_700_000_000_000`) so time-dependent logic stays pure.

export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
