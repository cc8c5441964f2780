// Billing information: name, email, address and tax ID printed on future invoices.

import { UPDATE_BILLING_INFO, isUserError, mutate } from "./api.js";
import { announce, busy, createSection, h, replaceKeepingFocus } from "./dom.js";

const FIELDS = [
  // [input name, label, GraphQL error field, autocomplete, wide?]
  ["name", "Company or full name", "name", "organization", false],
  ["email", "Billing email", "email", "email", false],
  ["line1", "Address line 1", "address.line1", "address-line1", false],
  ["line2", "Address line 2", "address.line2", "address-line2", false],
  ["city", "City", "address.city", "address-level2", false],
  ["state", "State or region", "address.state", "address-level1", false],
  ["postalCode", "Postal code", "address.postalCode", "postal-code", false],
  ["country", "Country code", "address.country", "country", false],
  ["taxId", "Tax ID (VAT, GST…)", "taxId", "off", false],
];

function valuesOf(info) {
  const address = info.address ?? {};
  return {
    name: info.name,
    email: info.email,
    line1: address.line1,
    line2: address.line2,
    city: address.city,
    state: address.state,
    postalCode: address.postalCode,
    country: address.country,
    taxId: info.taxId,
  };
}

function field([name, label, , autocomplete, wide], value, readOnly) {
  const id = `bi-${name}`;
  const extra =
    name === "country"
      ? { maxlength: "2", pattern: "[A-Za-z]{2}", "aria-describedby": `${id}-hint`, class: "input input-short" }
      : { class: "input" };
  return h(
    "div",
    { class: wide ? "field field-wide" : "field" },
    h("label", { for: id }, label),
    h("input", {
      id,
      name,
      value: value ?? "",
      autocomplete,
      readonly: readOnly,
      type: name === "email" ? "email" : "text",
      ...extra,
    }),
    name === "country" && h("p", { id: `${id}-hint`, class: "hint" }, "Two letters, e.g. US, DE, FR."),
    h("p", { id: `${id}-error`, class: "field-error", hidden: true }),
  );
}

function inputFor(form, errorField) {
  const entry = FIELDS.find((f) => f[2] === errorField);
  return entry ? form.elements[entry[0]] : null;
}

function clearErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    const error = document.getElementById(`${input.id}-error`);
    error.hidden = true;
    error.textContent = "";
    input.setAttribute("aria-describedby", input.getAttribute("aria-describedby")?.replace(` ${input.id}-error`, "") ?? "");
  }
}

function showError(form, result) {
  const input = inputFor(form, result.field);
  if (!input) return false;
  const error = document.getElementById(`${input.id}-error`);
  error.textContent = result.message;
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  const described = input.getAttribute("aria-describedby");
  input.setAttribute("aria-describedby", `${described ?? ""} ${input.id}-error`.trim());
  input.focus();
  return true;
}

function inputFrom(form, accountId) {
  const v = (name) => form.elements[name].value.trim() || null;
  return {
    accountId,
    name: v("name"),
    email: v("email"),
    address: {
      line1: v("line1"),
      line2: v("line2"),
      city: v("city"),
      state: v("state"),
      postalCode: v("postalCode"),
      country: v("country")?.toUpperCase() ?? null,
    },
    taxId: v("taxId"),
  };
}

export function createBillingInfoSection(app) {
  const section = createSection(
    "billing-info",
    "Billing information",
    "Printed on your invoices. Changes apply to future invoices only; invoices already issued keep the details they were issued with.",
  );
  let shownFor = null;
  return {
    element: section.element,
    update({ account }) {
      // Keep what the customer is typing: only rebuild for another account or after a save.
      const snapshot = JSON.stringify([account.id, account.billingInfo, app.canWrite]);
      if (snapshot === shownFor) return;
      shownFor = snapshot;
      const readOnly = !app.canWrite;
      const values = valuesOf(account.billingInfo);
      const save = h(
        "button",
        { class: "button", type: "submit", "data-focus-key": "save-billing-info" },
        "Save billing information",
      );
      const form = h(
        "form",
        { class: "form grid", "aria-labelledby": "billing-info-title", novalidate: true },
        FIELDS.map((f) => field(f, values[f[0]], readOnly)),
        !readOnly && h("div", { class: "form-actions field-wide" }, save),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        clearErrors(form);
        await busy(save, async () => {
          try {
            const result = await mutate(app.token, UPDATE_BILLING_INFO, {
              input: inputFrom(form, account.id),
            });
            if (isUserError(result)) {
              if (!showError(form, result)) announce(result.message, "error");
              else announce(`Not saved: ${result.message}`, "error");
              return;
            }
            shownFor = null;
            await app.reload();
            announce("Billing information saved. It applies to your next invoices.", "success");
          } catch (error) {
            announce(error.message, "error");
          }
        }, "Saving…");
      });
      replaceKeepingFocus(section.body, form, section.heading);
    },
  };
}
