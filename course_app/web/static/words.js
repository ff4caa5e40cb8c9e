// Wording shared by the pages: counts that agree with their nouns, and lengths of time.

/** plural(1, "minute") → "1 minute"; plural(3, "attempt") → "3 attempts". */
export const plural = (count, noun, many = `${noun}s`) => `${count} ${count === 1 ? noun : many}`;

/** A window's exact length, as the dialog states it: "5 minutes", "1 minute", "90 seconds". */
export function duration(seconds) {
  if (seconds >= 60 && seconds % 60 === 0) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

/** Time still to go, said the way people say it: "about 5 minutes", "about 1 minute",
 * "45 seconds" (under a minute, "about 0 minutes" would be wrong and "about 1" a promise). */
export function roughly(seconds) {
  if (seconds < 60) return plural(seconds, "second");
  return `about ${plural(Math.round(seconds / 60), "minute")}`;
}

/** "a", "a and b", "a, b and c" (or "a, b or c"). */
export function listing(items, conjunction = "and") {
  if (items.length < 2) return items.join("");
  return `${items.slice(0, -1).join(", ")} ${conjunction} ${items[items.length - 1]}`;
}

/** A message that ends like a sentence, so another one can follow it. */
export const sentence = (text) => (/[.!?…]$/.test(text) ? text : `${text}.`);
