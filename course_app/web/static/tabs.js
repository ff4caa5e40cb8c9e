// Every tab of the app in one browser shares one session cookie, so a confirmation, a change
// or a sign-out in one tab is true in all of them. Tabs tell each other through a
// BroadcastChannel, and a tab also checks again when it comes back into view (another device
// may have changed things too).

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("stepup") : null;

/** Tell the other tabs: "confirmed", "changed" or "signed-out". */
export function tell(news) {
  channel?.postMessage({ news });
}

/** `listener(news)` for what another tab told. */
export function hear(listener) {
  channel?.addEventListener("message", (event) => listener(event.data?.news));
}

/** `listener()` whenever this tab is looked at again. */
export function onReturn(listener) {
  window.addEventListener("focus", listener);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") listener();
  });
}
