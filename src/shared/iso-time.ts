// ISO 8601 timestamps without a Date per call: the text up to the second is kept for the last
// few whole seconds, so the upload-URL path (a record timestamp, the URL's expiry and the SAS's
// start and expiry per request, thousands of requests per second) formats each second once.
// Same text as Date.prototype.toISOString for years 0000-9999.

/** Whole seconds remembered; an issuance touches three (now, now - 60 s, now + TTL) in any one second. */
const REMEMBERED = 8;

const seconds = new Map<number, string>();

/** `YYYY-MM-DDTHH:MM:SS` of a whole second since the epoch. */
function secondText(second: number): string {
  let text = seconds.get(second);
  if (text === undefined) {
    if (seconds.size >= REMEMBERED) seconds.clear();
    text = new Date(second * 1000).toISOString().slice(0, 19);
    seconds.set(second, text);
  }
  return text;
}

/** `new Date(ms).toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
export function isoTime(ms: number): string {
  const whole = Math.floor(ms); // a Date drops fractions of a millisecond too
  const second = Math.floor(whole / 1000);
  const millis = whole - second * 1000;
  return `${secondText(second)}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

/** ISO 8601 to the second, milliseconds cut off: `YYYY-MM-DDTHH:MM:SSZ` (what a SAS's st and se take). */
export function isoSecond(ms: number): string {
  return `${secondText(Math.floor(ms / 1000))}Z`;
}
