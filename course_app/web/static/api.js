// The one fetch wrapper every page uses. It decides nothing about security: it just tries.
// On 403 "reauth_required" it opens the "Confirm your identity" dialog with the methods the
// server listed, then sends the very same request again (method, URL, body), once. Any other
// answer, a 403 "forbidden" included, goes straight back to the caller.
import { confirmIdentity } from "./confirm.js";
import { send, toSignIn } from "./http.js";

/** A non-2xx answer: `status`, the server's `code` and its `error` message. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `Request failed (${status})`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? null;
    this.body = body;
  }
}

/** The person cancelled the confirmation: the action was abandoned and never sent again. */
export class Cancelled extends Error {
  constructor() {
    super("Cancelled: nothing was changed.");
    this.name = "Cancelled";
  }
}

export const needsStepUp = (answer) =>
  answer.status === 403 && answer.data?.code === "reauth_required";

/** Send a request, stepping up and retrying when the server asks. Resolves with the JSON
 * body (null for 204); rejects with ApiError, or Cancelled when the dialog was dismissed.
 * `purpose` tells the dialog what it is for: "To <purpose>, confirm it's you." */
export async function api(method, url, body, purpose) {
  let answer = await send(method, url, body);
  if (needsStepUp(answer)) {
    if (!(await confirmIdentity(answer.data, purpose))) throw new Cancelled();
    answer = await send(method, url, body);
  }
  if (answer.ok) return answer.data;
  if (answer.status === 401 && answer.data?.code === "not_authenticated") toSignIn();
  throw new ApiError(answer.status, answer.data);
}
