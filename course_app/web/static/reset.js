// Forgotten password: ask for a link (forgot.html), then choose a new password (reset.html).
import { api } from "./api.js";
import { $, onSubmit } from "./ui.js";

const forgot = $("#forgot-form");
if (forgot) {
  onSubmit(forgot, $("[data-error]", forgot), async ({ email }) => {
    if (!email) throw new Error("Enter your email address.");
    const result = await api("POST", "/auth/password-reset", { email });
    return result.message;
  });
}

const reset = $("#reset-form");
if (reset) {
  const token = new URLSearchParams(window.location.search).get("token") || "";
  onSubmit(reset, $("[data-error]", reset), async ({ new_password }) => {
    if (!token) throw new Error("This page needs the link from your email.");
    await api("POST", "/auth/password-reset/complete", { token, new_password });
    window.location.assign("/signin?reset=1");
    return "";
  });
}
