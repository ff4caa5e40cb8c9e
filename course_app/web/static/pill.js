// The pill says whether sensitive actions will ask. It informs; the server decides.
//
// It counts down the server's `expires_in` (whole seconds still inside the window; 0 is the
// last one) on the page's monotonic clock, never the computer's date, which may be minutes
// off. It closes on the server's own rule (course_app/security/recency.py): a confirmation
// counts while now - confirmed_at <= window, in whole seconds, so the window is open through
// second `expires_in` and closed from the second after it.
import { roughly } from "./words.js";

let timer = null;
let wasOpen = null; // null until the first showWindow(): nothing to announce on load

const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;

// Screen readers hear the window open and close, not every second of the countdown.
function announce(open, left) {
  if (open === wasOpen) return;
  const first = wasOpen === null;
  wasOpen = open;
  if (first) return;
  document.getElementById("window-announce").textContent = open
    ? `Identity confirmed. Sensitive actions won't ask again for ${roughly(left)}.`
    : "The confirmation window has closed: sensitive actions will ask you to confirm again.";
}

/** Count down from the server's `expiresIn` (null: the window is closed). */
export function showWindow(expiresIn) {
  const pill = document.getElementById("window-status");
  clearTimeout(timer);
  const start = performance.now();
  const tick = () => {
    const elapsed = performance.now() - start;
    const left = expiresIn == null ? -1 : expiresIn - Math.floor(elapsed / 1000);
    const open = left >= 0;
    pill.textContent = open
      ? `Identity confirmed · ${clock(left)} left`
      : "Sensitive actions will ask you to confirm";
    pill.dataset.state = open ? "open" : "closed";
    announce(open, left);
    // The next change is due when the next whole second since the answer begins.
    if (open) timer = setTimeout(tick, 1000 - (elapsed % 1000));
  };
  tick();
}

// Every confirmation on this page (the dialog's event carries the server's answer), whatever
// the action that asked for it did next.
document.addEventListener("stepup:confirmed", (event) => showWindow(event.detail.expires_in));
