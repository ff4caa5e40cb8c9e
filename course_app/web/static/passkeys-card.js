// The account page's passkeys: the list, removing one, adding one (behind the dialog).
import { api } from "./api.js";
import { $, attempt, h, onSubmit, say, when } from "./ui.js";
import { createPasskey, passkeysSupported } from "./webauthn.js";

/** Wire the card; returns the function that (re)loads its list. `changed()` reloads what a
 * passkey changes elsewhere on the page (the password section, the methods). */
export function passkeysCard(status, changed) {
  async function loadPasskeys() {
    const passkeys = await api("GET", "/me/passkeys");
    const list = $("#passkey-list");
    list.replaceChildren(...passkeys.map(item));
    if (!passkeys.length) list.append(h("li", { class: "item empty" }, "No passkeys yet."));
  }

  function item(p) {
    const remove = h("button", { class: "btn btn-secondary btn-small", type: "button" }, "Remove");
    remove.setAttribute("aria-label", `Remove passkey ${p.name}`);
    remove.addEventListener("click", () =>
      attempt(status, remove, async () => {
        await api("DELETE", `/me/passkeys/${p.id}`, undefined, `remove the passkey "${p.name}"`);
        await Promise.all([loadPasskeys(), changed()]);
        return `Passkey "${p.name}" removed.`;
      }),
    );
    const meta = `Added ${when(p.created_at)} · Last used ${when(p.last_used_at)}`;
    return h(
      "li",
      { class: "item" },
      h("div", {}, h("p", { class: "item-title" }, p.name), h("p", { class: "item-meta" }, meta)),
      remove,
    );
  }

  if (!passkeysSupported()) {
    $("#passkey-form button").disabled = true;
    say(status, "This browser does not support passkeys.", "muted");
  }

  onSubmit($("#passkey-form"), status, async ({ name }, form) => {
    const purpose = "add a passkey";
    const credential = await createPasskey(
      await api("POST", "/me/passkeys/options", undefined, purpose),
    );
    const body = { credential, name: name.trim() || "Passkey" };
    const result = await api("POST", "/me/passkeys", body, purpose);
    form.reset();
    await Promise.all([loadPasskeys(), changed()]);
    return result.message;
  });

  return loadPasskeys;
}
