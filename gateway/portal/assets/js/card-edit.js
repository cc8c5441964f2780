// "Edit" in a card's "…" menu: its expiry and billing address (updatePaymentMethod), at
// the provider and here. An expired card given a future expiry is usable again.

import { UPDATE_PAYMENT_METHOD, isUserError, mutate } from "./api.js";
import { announce, brandName, h } from "./dom.js";

const FIELDS = {
  expMonth: "edit-exp-month",
  expYear: "edit-exp-year",
  "billingAddress.postalCode": "edit-postal-code",
  "billingAddress.country": "edit-country",
};

function field(id, label, attrs, hint = null) {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", {
      id,
      class: "input input-short",
      "aria-describedby": [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" "),
      ...attrs,
    }),
    hint && h("p", { id: `${id}-hint`, class: "hint" }, hint),
    h("p", { id: `${id}-error`, class: "field-error", hidden: true }),
  );
}

export function createEditCardPanel(app, { onClosed }) {
  const element = h("div", {
    class: "add-card card-edit",
    role: "region",
    "aria-labelledby": "card-edit-title",
    hidden: true,
  });
  let editing = null;

  function close() {
    element.hidden = true;
    element.replaceChildren();
    const pm = editing;
    editing = null;
    onClosed(pm);
  }

  function showError(form, fieldName, message) {
    const id = FIELDS[fieldName];
    const input = id ? form.querySelector(`#${id}`) : null;
    if (!input) {
      announce(message, "error");
      return;
    }
    input.setAttribute("aria-invalid", "true");
    const error = form.querySelector(`#${id}-error`);
    error.textContent = message;
    error.hidden = false;
    input.focus();
  }

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    for (const error of form.querySelectorAll(".field-error")) error.hidden = true;
    const value = (name) => form.elements[name].value.trim();
    const number = (name) => (value(name) ? Number(value(name)) : null);
    const country = value("country");
    const postalCode = value("postalCode");
    const input = {
      paymentMethodId: editing.id,
      expMonth: number("expMonth"),
      expYear: number("expYear"),
      billingAddress:
        country || postalCode ? { country: country || null, postalCode: postalCode || null } : null,
    };
    const pm = editing;
    await app.run(
      form.querySelector("button[type=submit]"),
      async () => {
        const result = await mutate(app.token, UPDATE_PAYMENT_METHOD, { input });
        if (isUserError(result)) {
          showError(form, result.field, result.message);
          return;
        }
        close();
        await app.reload();
        announce(`${brandName(pm.brand)} ending in ${pm.last4} is updated.`, "success");
      },
      "Saving…",
    );
  }

  function open(pm) {
    editing = pm;
    element.hidden = false;
    const name = `${brandName(pm.brand)} ending in ${pm.last4}`;
    element.replaceChildren(
      h("h3", { id: "card-edit-title", class: "panel-title", tabindex: "-1" }, `Edit ${name}`),
      h(
        "form",
        { class: "form grid", novalidate: true, onsubmit: submit },
        field("edit-exp-month", "Expiry month", {
          name: "expMonth",
          inputmode: "numeric",
          value: String(pm.expMonth),
          autocomplete: "cc-exp-month",
        }, "1 to 12"),
        field("edit-exp-year", "Expiry year", {
          name: "expYear",
          inputmode: "numeric",
          value: String(pm.expYear),
          autocomplete: "cc-exp-year",
        }, "Four digits, e.g. 2031"),
        field("edit-postal-code", "Billing postal code", { name: "postalCode", autocomplete: "postal-code" }),
        field("edit-country", "Billing country code", { name: "country", autocomplete: "country", maxlength: "2" }, "Two letters, e.g. US, DE, FR."),
        h(
          "div",
          { class: "form-actions field-wide" },
          h("button", { type: "submit", class: "button" }, "Save card"),
          h("button", { type: "button", class: "button button-secondary", onclick: close }, "Cancel"),
        ),
      ),
    );
    element.querySelector("#card-edit-title").focus();
  }

  return { element, open, close };
}
