// The one fetch wrapper every page uses. It decides nothing about security: it just tries.
// On 403 "reauth_required" it opens the "Confirm your identity" dialog with the methods the
// server listed, then sends the very same request again (method, URL, body), once. Any other
// answer, a 403 "forbidden" included, goes straight back to the caller; a 409 "superseded"
// (another change of the account landed first; nothing was changed) is sent again, once.
//
// Every way it can end says whether the action happened: done (resolve), refused by the
// server (ApiError: nothing was changed), Cancelled (nothing was changed), or Unsure (the
// answer never came, so nobody can tell: try again).
import { confirmIdentity } from "./confirm.js";
import { sendSession as send, toSignIn } from "./http.js";
import { tell } from "./tabs.js";
import { sentence } from "./words.js";

/** A 4xx from the server: `status`, its `code` and its `error` message. The server changes
 * nothing when it refuses, so when the request was an action the message says so. */
export class ApiError extends Error {
  constructor(status, body, { action = false, retry = false } = {}) {
    const message = body?.error || `Request failed (${status})`;
    super(action ? `${sentence(message)} Nothing was changed.` : message);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? null;
    this.body = body;
    this.action = action;
    this.retry = retry;
  }
}

/** `error` again with the page's own words when its code is `code` (the server's "Forbidden"
 * says less than "only owners and admins can…"); any other error as it is. */
export function reword(error, code, message) {
  if (!(error instanceof ApiError) || error.code !== code) return error;
  return new ApiError(error.status, { ...error.body, error: message }, error);
}

/** The person cancelled the confirmation: the action was abandoned and never sent again. */
export class Cancelled extends Error {
  constructor() {
    super("Cancelled: nothing was changed.");
    this.name = "Cancelled";
  }
}

/** No answer we can read: the request may or may not have been applied. Worth a retry. */
export class Unsure extends Error {
  constructor(message) {
    super(message);
    this.name = "Unsure";
    this.retry = true;
  }
}

const CAUSES = {
  network: () => "we could not reach the server",
  timeout: () => "the server did not answer in time",
  server: (status) => `the server had a problem${status ? ` (HTTP ${status})` : ""}`,
};
const capital = (text) => text[0].toUpperCase() + text.slice(1);

function unsure(answer, method, purpose, confirmed) {
  const cause = CAUSES[answer.failure](answer.status);
  if (!purpose || method === "GET") return new Unsure(`${capital(cause)}. Try again.`);
  const said = confirmed ? `Your identity is confirmed, but ${cause}` : capital(cause);
  return new Unsure(`${said}, so we don't know whether the request to ${purpose} went through.`);
}

// A request that carries a factor itself (turning 2FA off takes a code) must not have the
// dialog spend that same kind of factor first: the code would then be refused as used.
const CARRIED = { code: "totp", recovery_code: "recovery_code" };
const carriedFactors = (body) =>
  Object.keys(CARRIED)
    .filter((field) => body?.[field])
    .map((field) => CARRIED[field]);

const needsStepUp = (answer) => answer.status === 403 && answer.data?.code === "reauth_required";

// The requests one dialog unblocked are sent again one after another, in the order they
// asked. Sent together, one that rotates the cookie or changes the password (a password
// change) would have the other refused as superseded, depending on which the server took
// first; in turn, each is checked against what the one before it left.
let turn = Promise.resolve();
function inTurn(request) {
  const sent = turn.then(request);
  turn = sent.catch(() => null);
  return sent;
}

/** Send a request, stepping up and retrying when the server asks. Resolves with the JSON
 * body (null for 204); rejects with ApiError, Cancelled or Unsure. `purpose`, for actions,
 * says what the person asked for: the dialog reads "To <purpose>, confirm it's you." and a
 * failure says whether that happened. */
export async function api(method, url, body, purpose) {
  const action = Boolean(purpose) && method !== "GET";
  let answer = await send(method, url, body);
  let confirmed = false;
  if (needsStepUp(answer)) {
    if (!(await confirmIdentity(answer.data, purpose, carriedFactors(body)))) throw new Cancelled();
    confirmed = true;
    answer = await inTurn(() => send(method, url, body));
    if (needsStepUp(answer)) {
      // Confirmed, yet refused: the window closed while the request was on its way.
      const error = "The confirmation ran out before the request arrived";
      throw new ApiError(403, { ...answer.data, error }, { action, retry: true });
    }
  }
  if (answer.status === 409 && answer.data?.code === "superseded") {
    // Another change of the same account (this tab's or another's) landed while this one was
    // on its way, and this one changed nothing: it is sent again, once, on the new state.
    answer = await send(method, url, body);
  }
  if (answer.failure) throw unsure(answer, method, purpose, confirmed);
  if (answer.ok) {
    if (method !== "GET") tell("changed");
    return answer.data;
  }
  if (answer.status === 401 && answer.data?.code === "not_authenticated") toSignIn();
  throw new ApiError(answer.status, answer.data, { action });
}
