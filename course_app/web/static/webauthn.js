// Passkey ceremonies: the server's JSON options (base64url strings) in, the browser's
// PublicKeyCredential out as the JSON the server (py_webauthn) reads back. A failed or
// dismissed browser prompt becomes an Error with a message for people.

const toBytes = (b64url) => {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
};

const toB64url = (buffer) => {
  let raw = "";
  for (const byte of new Uint8Array(buffer)) raw += String.fromCharCode(byte);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));

const PROBLEMS = {
  NotAllowedError: "The passkey prompt was closed or timed out.",
  InvalidStateError: "This device already has a passkey for your account.",
  SecurityError: "Passkeys need this page on the app's configured address.",
};
const NOT_HERE =
  "None of your passkeys is saved on this device. Use the device or security key you added it on, or another way.";

// For privacy, browsers answer "no passkey here" with the same NotAllowedError as a closed
// prompt. This browser keeps the ids of the passkeys it has made or used, so that a refusal
// for passkeys it has never seen can say what most likely happened.
const SEEN = "stepup.passkeysSeen";

function seenHere() {
  try {
    return new Set(JSON.parse(localStorage.getItem(SEEN) || "[]"));
  } catch {
    return new Set();
  }
}

/** Remember that the passkey `id` (base64url) is on this device. */
function rememberPasskey(id) {
  try {
    localStorage.setItem(SEEN, JSON.stringify([...seenHere().add(id)]));
  } catch {
    // Storage refused: refusals fall back to the general message.
  }
}

/** The message for a refused get(): `allowed` lists the passkeys the server would take
 * (empty for a sign-in, which takes any of this site's). */
function notAllowed(allowed) {
  const seen = seenHere();
  const known = allowed.length ? allowed.some((id) => seen.has(id)) : seen.size > 0;
  return known ? PROBLEMS.NotAllowedError : NOT_HERE;
}

export const passkeysSupported = () =>
  typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

/** Run the browser's prompt; return the credential with its response fields base64url'd.
 * `refused(error)` may name a NotAllowedError better than the general message. */
async function ceremony(prompt, fields, refused = () => null) {
  let credential;
  try {
    credential = await prompt();
  } catch (error) {
    const named = error?.name === "NotAllowedError" ? refused() : null;
    throw new Error(
      named || PROBLEMS[error?.name] || error?.message || "The passkey could not be used.",
    );
  }
  rememberPasskey(credential.id);
  const response = {};
  for (const field of fields) {
    const value = credential.response[field];
    if (value) response[field] = toB64url(value);
  }
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
    response,
  };
}

/** navigator.credentials.create() from the server's registration options. */
export async function createPasskey(options) {
  const publicKey = {
    ...options,
    challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  return ceremony(
    () => navigator.credentials.create({ publicKey }),
    ["clientDataJSON", "attestationObject"],
  );
}

/** navigator.credentials.get() from the server's authentication options. */
export async function getPasskey(options) {
  const publicKey = {
    ...options,
    challenge: toBytes(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  const allowed = (options.allowCredentials || []).map((c) => c.id);
  return ceremony(
    () => navigator.credentials.get({ publicKey }),
    ["clientDataJSON", "authenticatorData", "signature", "userHandle"],
    () => notAllowed(allowed),
  );
}
