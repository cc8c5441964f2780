// "Add a payment method", setup first: startPaymentMethodSetup -> stripe.confirmCardSetup
// (the provider's card form; 3-D Secure when the bank asks) -> addPaymentMethod(seti_...).

import {
  ADD_PAYMENT_METHOD,
  CONFIRM_PAYMENT_METHOD,
  START_SETUP,
  isUserError,
  mutate,
} from "./api.js";
import { announce, brandName, busy, h } from "./dom.js";
import { confirmCardSetup, mountCardForm } from "./provider.js";

function isSandbox(provider) {
  return !/^https:\/\/js\.stripe\.com\//.test(provider.jsUrl);
}

async function addCard(app, form, mounted) {
  const account = app.data.account;
  const started = await mutate(app.token, START_SETUP, { accountId: account.id });
  if (isUserError(started)) return { error: started.message };
  const setup = await confirmCardSetup(
    mounted.stripe,
    mounted.card,
    started.clientSecret,
    form.elements.cardholder.value.trim() || null,
  );
  if (setup.error) return { error: setup.error };
  const input = {
    accountId: account.id,
    providerToken: setup.setupIntentId,
    makeDefault: form.elements.makeDefault.checked,
  };
  let added = await mutate(app.token, ADD_PAYMENT_METHOD, { input });
  if (isUserError(added)) return { error: added.message };
  if (added.paymentMethod.status === "REQUIRES_ACTION") {
    added = await mutate(app.token, CONFIRM_PAYMENT_METHOD, { id: added.paymentMethod.id });
    if (isUserError(added)) return { error: added.message };
  }
  return { paymentMethod: added.paymentMethod };
}

export function createAddCardPanel(app, { onClosed }) {
  const panel = h("div", { class: "add-card", hidden: true });
  let mounted = null;

  function close(announceIt = false) {
    mounted?.destroy();
    mounted = null;
    panel.hidden = true;
    panel.replaceChildren();
    onClosed(announceIt);
  }

  async function open(makeDefault) {
    if (!panel.hidden) {
      panel.querySelector("#makeDefault").checked ||= makeDefault;
      panel.querySelector(".card-element input, #cardholder")?.focus();
      return;
    }
    const account = app.data.account;
    const usableCards = account.paymentMethods.filter((pm) => pm.status === "ACTIVE");
    const error = h("p", { id: "add-card-error", class: "field-error", role: "alert" });
    const slot = h("div", { class: "card-element", id: "card-element" }, "Loading the secure card form…");
    const save = h("button", { class: "button", type: "submit" }, "Save card");
    const form = h(
      "form",
      { class: "form", "aria-labelledby": "add-card-title", novalidate: true },
      h("h3", { id: "add-card-title", class: "panel-title" }, "Add a payment method"),
      h(
        "div",
        { class: "field" },
        h("span", { class: "label", id: "card-label" }, "Card details"),
        h("div", { role: "group", "aria-labelledby": "card-label", "aria-describedby": "card-help" }, slot),
        h(
          "p",
          { id: "card-help", class: "hint" },
          "Card details go straight to our payment provider; we never see or store your card number.",
          isSandbox(app.data.provider) &&
            h(
              "span",
              { class: "sandbox-hint" },
              " Sandbox test cards: 4242 4242 4242 4242 (works), 4000 0027 6000 3184 (3-D Secure), 4000 0000 0000 0341 (declines charges).",
            ),
        ),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "cardholder" }, "Name on card ", h("span", { class: "muted" }, "(optional)")),
        h("input", { id: "cardholder", name: "cardholder", class: "input", autocomplete: "cc-name" }),
      ),
      h(
        "div",
        { class: "check" },
        h("input", {
          type: "checkbox",
          id: "makeDefault",
          name: "makeDefault",
          checked: makeDefault || usableCards.length === 0,
        }),
        h("label", { for: "makeDefault" }, "Make this my default payment method"),
      ),
      error,
      h(
        "div",
        { class: "form-actions" },
        save,
        h(
          "button",
          { type: "button", class: "button button-secondary", onclick: () => close(false) },
          "Cancel",
        ),
      ),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!mounted) return;
      error.textContent = "";
      const work = () => addCard(app, form, mounted).catch((e) => ({ error: e.message }));
      const outcome = await busy(save, work, "Saving…");
      if (!outcome) return;
      if (outcome.error) {
        error.textContent = outcome.error;
        return;
      }
      const pm = outcome.paymentMethod;
      const isDefault = form.elements.makeDefault.checked;
      close(true);
      await app.reload();
      announce(
        `${brandName(pm.brand)} ending ${pm.last4} was added${isDefault ? " as your default payment method" : ""}.`,
        "success",
      );
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    try {
      mounted = await mountCardForm(app.data.provider, slot, (message) => {
        error.textContent = message ?? "";
      });
      slot.querySelector("input")?.focus();
    } catch (e) {
      slot.textContent = "";
      error.textContent = e.message;
    }
    panel.scrollIntoView({ block: "nearest" });
  }

  return { element: panel, open, close };
}
