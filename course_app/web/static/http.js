// One plain JSON round trip, shared by the fetch wrapper (api.js) and the dialog (confirm.js).

/** Send `body` as JSON; resolve with `{status, ok, data}` whatever the status. */
export async function send(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text };
    }
  }
  return { status: response.status, ok: response.ok, data };
}

/** Where to go when the session is gone (signed out elsewhere, or locked after failures). */
export function toSignIn(reason = "signed_out") {
  window.location.assign(`/signin?${reason}=1`);
}
