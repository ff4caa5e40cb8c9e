// One plain JSON round trip, shared by the fetch wrapper (api.js) and the dialog (confirm.js).
// It never throws. A server that cannot be reached, that does not answer in time, or that
// answers with something other than our JSON (a proxy's 502 page, a crash) comes back as a
// `failure`, so that every caller can end in a state it can name instead of hanging.

// Long enough for bcrypt on a busy machine; short enough that nobody waits on a dead line.
const TIMEOUT_MS = 30_000;
let changing = 0; // requests in flight that may change something on the server

/** Send `body` as JSON; resolve with `{status, ok, data, failure}` whatever happens.
 * `failure` is null (the server answered in JSON), "network", "timeout" or "server". */
export async function send(method, url, body) {
  const stop = new AbortController();
  const init = {
    method,
    credentials: "same-origin",
    headers: { accept: "application/json" },
    signal: stop.signal,
  };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // setTimeout, not AbortSignal.timeout(): the page's clock (and so a test) controls it.
  const timer = setTimeout(() => stop.abort(), TIMEOUT_MS);
  const changes = method !== "GET";
  if (changes) changing += 1;
  try {
    const response = await fetch(url, init);
    return read(response.status, response.headers.get("content-type"), await response.text());
  } catch {
    return { status: 0, ok: false, data: null, failure: stop.signal.aborted ? "timeout" : "network" };
  } finally {
    clearTimeout(timer);
    if (changes) changing -= 1;
  }
}

/** send(), and once more if another tab rotated the session cookie while the request was
 * on its way (confirming and changing the password do): the server refused it untouched
 * with a 401, and the session, which all tabs share, lives on. */
export async function sendSession(method, url, body) {
  const answer = await send(method, url, body);
  if (answer.status !== 401 || answer.data?.code !== "not_authenticated") return answer;
  const alive = await send("GET", "/me");
  return alive.ok ? send(method, url, body) : answer;
}

/** Our server answers JSON (or nothing, for 204). Anything else, and any 5xx, is a failure
 * whose text is never shown: a proxy's HTML page is not a message for people. */
function read(status, type, text) {
  let data = null;
  if (text && (type || "").includes("json")) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  const failure = status >= 500 || (text && data === null) ? "server" : null;
  return { status, ok: status >= 200 && status < 300 && !failure, data, failure };
}

// Closing the tab while a change is on its way would leave the person not knowing whether it
// happened: the browser asks first.
window.addEventListener("beforeunload", (event) => {
  if (!changing) return;
  event.preventDefault();
  event.returnValue = "";
});

/** Where to go when the session is gone (signed out elsewhere, or locked after failures). */
export function toSignIn(reason = "signed_out") {
  window.location.assign(`/signin?${reason}=1`);
}
