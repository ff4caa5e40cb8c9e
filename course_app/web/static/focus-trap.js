// Tab and Shift+Tab stay inside a modal dialog, and reach only the checked radio of a group
// (the arrow keys move between radios), as a native radio group does.

/** The elements Tab reaches, in order: of a radio group, only its checked radio. */
function tabbables(root) {
  return [...root.querySelectorAll("button, input, a[href], select, textarea")].filter((el) => {
    if (el.disabled || el.tabIndex < 0 || !el.getClientRects().length) return false;
    if (el.type !== "radio") return true;
    const group = [...root.querySelectorAll(`input[type=radio][name="${el.name}"]`)];
    const checked = group.find((radio) => radio.checked && radio.getClientRects().length);
    return checked ? el === checked : el === group.find((radio) => radio.getClientRects().length);
  });
}

/** A keydown listener for `root` that wraps Tab around its ends. */
export function trapFocus(root) {
  return (event) => {
    if (event.key !== "Tab") return;
    const items = tabbables(root);
    const at = items.indexOf(document.activeElement);
    if (!items.length) return;
    if (event.shiftKey && at <= 0) {
      event.preventDefault();
      items[items.length - 1].focus();
    } else if (!event.shiftKey && (at === -1 || at === items.length - 1)) {
      event.preventDefault();
      items[0].focus();
    }
  };
}
