"""Scripts the browser tests add to pages (``context.add_init_script``) to watch them."""

# Records every live region (status, alert, aria-live) whose message arrived while it was
# not rendered a moment before: a region shown together with its message, or one that was
# display:none until then, may never be announced. Rendered = checkVisibility() (an empty,
# visually folded region counts as rendered: it is in the accessibility tree). The parser's
# own insertions are only noted, never judged.
LATE_LIVE_REGIONS = """
window.__lateRegions = [];
(() => {
  const LIVE = '[role="status"], [role="alert"], [role="log"], [aria-live]';
  let shown = new Map();
  const snapshot = () => {
    shown = new Map([...document.querySelectorAll(LIVE)].map((el) => [el, el.checkVisibility()]));
  };
  const judge = (region) => {
    if (!region || !region.textContent.trim() || shown.get(region)) return;
    const name = region.id || region.className || region.tagName;
    window.__lateRegions.push(`${name}: ${region.textContent.trim().slice(0, 60)}`);
  };
  new MutationObserver((records) => {
    if (document.readyState !== "loading") {
      for (const record of records) {
        if (record.type === "attributes") continue;
        const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
        judge(node?.closest(LIVE));
        for (const added of record.addedNodes) {
          if (added.nodeType !== 1) continue;
          if (added.matches(LIVE)) judge(added);
          added.querySelectorAll(LIVE).forEach(judge);
        }
      }
    }
    snapshot();
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
})();
"""

# Every live region inside a rendered parent that is not rendered itself (display:none).
HIDDEN_LIVE_REGIONS = """() => [...document.querySelectorAll(
    '[role="status"], [role="alert"], [role="log"], [aria-live]')]
  .filter((el) => el.parentElement.checkVisibility() && !el.checkVisibility())
  .map((el) => el.id || el.className || el.tagName)"""
