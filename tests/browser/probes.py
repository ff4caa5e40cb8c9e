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

# WCAG 1.4.12: the text spacing a reader may set (line height 1.5, paragraphs 2 em apart,
# letters 0.12 em, words 0.16 em), as a user style sheet would. A constructed style sheet is
# not inline style, so the page's CSP lets it apply, as it lets a reader's extension.
TEXT_SPACING = """() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }`);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  return getComputedStyle(document.body).letterSpacing;
}"""

# What sticks out sideways: the page's scroll width, the rendered elements whose right edge
# passes the viewport's, and those whose content is wider than their box (text clipped, or
# spilling out, or a box of its own to scroll). Fields scroll their text by design, and a
# visually hidden element (1 px) clips on purpose.
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll("body *")].filter((el) => {
    if (!el.checkVisibility() || el.matches("input, select, textarea")) return false;
    const box = el.getBoundingClientRect();
    if (box.width <= 1) return false;
    return box.right > width + 0.5 || el.scrollWidth > el.clientWidth + 1;
  });
  return {
    width,
    scrollWidth: document.documentElement.scrollWidth,
    out: out.slice(0, 4).map((el) => {
      const right = Math.round(el.getBoundingClientRect().right);
      return `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}" ends at ${right}`;
    }),
  };
}"""
