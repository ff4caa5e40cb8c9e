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

export const passkeysSupported = () =>
  typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

/** Run the browser's prompt; return the credential with its response fields base64url'd. */
async function ceremony(prompt, fields) {
  let credential;
  try {
    credential = await prompt();
  } catch (error) {
    throw new Error(PROBLEMS[error?.name] || error?.message || "The passkey could not be used.");
  }
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
  return ceremony(
    () => navigator.credentials.get({ publicKey }),
    ["clientDataJSON", "authenticatorData", "signature", "userHandle"],
  );
}
