// Which ways of confirming the dialog offers, which it opens on, and what a failed attempt
// says. The server's 403 lists the methods; this browser remembers the one it used last.
import { plural, sentence } from "./words.js";
import { passkeysSupported } from "./webauthn.js";

/** The field each method posts to /auth/confirm (a passkey has its own endpoints). */
export const FIELDS = { password: "password", totp: "code", recovery_code: "recovery_code" };
const LAST_METHOD = "stepup.lastMethod";

/** Remember how this browser last proved who it is (sign-in or confirmation), so the next
 * dialog opens on it. Recovery codes are a last resort: never the default. */
export function rememberMethod(method) {
  if (method === "recovery_code") return;
  try {
    localStorage.setItem(LAST_METHOD, method);
  } catch {
    // Storage refused (private mode): the dialog falls back to the server's order.
  }
}

function lastMethod() {
  try {
    return localStorage.getItem(LAST_METHOD);
  } catch {
    return null;
  }
}

/** The server's methods that this browser can use, less `excluded` (the factors the request
 * itself carries), in the server's order. */
export function usable(listed, excluded) {
  return (listed || []).filter(
    (m) => !excluded.has(m) && (m in FIELDS || (m === "passkey" && passkeysSupported())),
  );
}

/** The method to open on: the one remembered, else the first that is not a recovery code. */
export function preferred(methods) {
  const remembered = lastMethod();
  if (methods.includes(remembered)) return remembered;
  return methods.find((m) => m !== "recovery_code") || methods[0];
}

/** What the server's 401 says, with the attempts left when few are. */
export function failureMessage(data) {
  const message = data?.error || "That did not work. Try again.";
  const left = data?.attempts_left;
  if (data?.code !== "invalid_credentials" || !(left <= 2)) return message;
  return `${sentence(message)} ${plural(left, "attempt")} left before this session is signed out.`;
}

/** The answer never came (or was not ours to read): nothing to count, try again. */
export const TRANSPORT = {
  network: "Could not reach the server. Check your connection, then try again.",
  timeout: "The server did not answer in time. Try again.",
  server: "The server had a problem and could not check this. Try again in a moment.",
};
