// Create an account; the verification link goes to the (dev) mailbox.
import { api } from "./api.js";
import { $, onSubmit } from "./ui.js";

const form = $("#signup-form");

onSubmit(form, $("[data-error]", form), async ({ email, password }) => {
  if (!email || !password) throw new Error("Enter an email address and a password.");
  const result = await api("POST", "/auth/signup", { email, password });
  form.hidden = true;
  $("#signup-email").textContent = result.email;
  $("#signup-message").textContent = result.message;
  $("#signup-done").hidden = false;
  return "";
});
