// What every page behind a sign-in does alike: the "Sign out" button, and keeping up with
// the other tabs (tabs.js). `refresh(everything)` reloads the page's state: just GET /me
// when the tab is looked at again or another tab confirmed, everything after a change.
import { api } from "./api.js";
import { toSignIn } from "./http.js";
import { hear, onReturn, tell } from "./tabs.js";
import { $ } from "./ui.js";

/** Leave for the sign-in page, and take the other tabs along (they share the session). */
export function signedOut(reason = "signed_out") {
  tell("signed-out");
  window.location.assign(`/signin?${reason}=1`);
}

export function signedInPage(refresh) {
  $("#sign-out").addEventListener("click", async () => {
    await api("POST", "/auth/logout").catch(() => null);
    signedOut();
  });
  // One load after another: two loads at once may answer out of order, and the older answer
  // must never be the one the page shows last.
  let queue = Promise.resolve();
  const load = (everything) => {
    queue = queue.then(() => refresh(everything), () => refresh(everything));
    return queue;
  };
  hear((news) => {
    if (news === "signed-out") toSignIn();
    else load(news === "changed");
  });
  onReturn(() => load(false));
  load(true);
}
