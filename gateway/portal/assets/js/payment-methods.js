// Payment methods: the cards on file, their "…" menu (Make default, Delete) and the
// add-card panel. The menu mirrors the gateway's rules so a customer sees *why* an
// action is unavailable; the gateway still enforces them (a refusal is announced).

import { DELETE_PAYMENT_METHOD, MAKE_DEFAULT, isUserError, mutate } from "./api.js";
import { createAddCardPanel } from "./add-card.js";
import { createEditCardPanel } from "./card-edit.js";
import {
  announce,
  badge,
  brandName,
  confirmDialog,
  createSection,
  expiry,
  h,
  replaceKeepingFocus,
} from "./dom.js";
import { actionsMenu } from "./menu.js";

const BILLING_STATES = ["TRIALING", "ACTIVE", "PAST_DUE", "UNPAID"];
export const ENTERPRISE_NOTE = "Contact your sales representative to change payment methods.";

function hasPaidPlan(account) {
  const sub = account.subscription;
  return Boolean(sub && BILLING_STATES.includes(sub.status) && sub.plan.tier !== "FREE");
}

export function deleteRefusal(pm, account) {
  const others = account.paymentMethods.filter((o) => o.id !== pm.id && o.status === "ACTIVE");
  if (pm.isDefault && account.tier !== "FREE") {
    if (others.length === 0) {
      return "Your plan needs a usable card on file. Add another card first, then delete this one.";
    }
    // An expired default may go: the newest usable card takes over.
    if (pm.status === "ACTIVE") {
      return "Your default card can't be deleted. Make another card the default first.";
    }
  }
  if (pm.status === "ACTIVE" && others.length === 0 && hasPaidPlan(account)) {
    return "Your paid plan needs at least one card on file. Add another card first.";
  }
  return null;
}

function makeDefaultRefusal(pm) {
  if (pm.isDefault) return "This is already your default card.";
  if (pm.status === "EXPIRED") return "This card has expired.";
  if (pm.status !== "ACTIVE") return "This card still needs verification by your bank.";
  return null;
}

function describe(pm) {
  return `${brandName(pm.brand)} ending in ${pm.last4}`;
}

async function makeDefault(app, pm) {
  const result = await mutate(app.token, MAKE_DEFAULT, { id: pm.id });
  await app.reload();
  if (isUserError(result)) announce(result.message, "error");
  else announce(`${describe(pm)} is now your default payment method.`, "success");
}

async function deleteCard(app, pm) {
  const confirmed = await confirmDialog({
    title: "Delete this card?",
    body: `${describe(pm)} will be removed from your account. This can't be undone.`,
    confirmLabel: "Delete card",
  });
  if (!confirmed) return;
  const result = await mutate(app.token, DELETE_PAYMENT_METHOD, { id: pm.id });
  await app.reload();
  if (isUserError(result)) announce(result.message, "error");
  else announce(`${describe(pm)} was deleted.`, "success");
}

function cardRow(app, account, pm, onEdit) {
  const statusBadge =
    pm.status === "EXPIRED"
      ? badge("Expired", "bad")
      : pm.status === "REQUIRES_ACTION"
        ? badge("Needs verification", "warn")
        : null;
  const menu =
    app.canWrite &&
    actionsMenu(`Actions for ${describe(pm)}`, pm.id.replace(/[^\w-]/g, ""), [
      {
        label: "Make default",
        disabledReason: makeDefaultRefusal(pm),
        onSelect: (trigger) => app.run(trigger, () => makeDefault(app, pm)),
      },
      {
        label: "Edit",
        disabledReason: pm.status === "REQUIRES_ACTION" ? "Verify this card with your bank first." : null,
        onSelect: () => onEdit(pm),
      },
      {
        label: "Delete",
        danger: true,
        disabledReason: deleteRefusal(pm, account),
        onSelect: (trigger) => app.run(trigger, () => deleteCard(app, pm)),
      },
    ]);
  return h(
    "li",
    { class: "pm", "data-last4": pm.last4 },
    h("span", { class: `pm-logo pm-logo-${pm.brand.toLowerCase()}`, "aria-hidden": "true" }, brandName(pm.brand)),
    h(
      "div",
      { class: "pm-text" },
      h("span", { class: "pm-name" }, `${brandName(pm.brand)} •••• ${pm.last4}`),
      h("span", { class: "muted" }, `Expires ${expiry(pm.expMonth, pm.expYear)}`),
    ),
    h("div", { class: "pm-badges" }, pm.isDefault && badge("Default", "info"), statusBadge),
    menu,
  );
}

export function createPaymentMethodsSection(app) {
  const section = createSection("payment-methods", "Payment methods");
  const list = h("div");
  const addButton = h(
    "button",
    { type: "button", class: "button button-secondary", "data-focus-key": "add-card" },
    "Add a payment method",
  );
  const panel = createAddCardPanel(app, {
    onClosed: () => {
      addButton.hidden = !app.canWrite;
      addButton.setAttribute("aria-expanded", "false");
      addButton.focus();
    },
  });
  addButton.addEventListener("click", () => openPanel(false));
  addButton.setAttribute("aria-expanded", "false");
  section.actions.append(addButton);
  const editPanel = createEditCardPanel(app, {
    onClosed: (pm) => {
      const trigger = pm && list.querySelector(`li.pm[data-last4="${pm.last4}"] .icon-button`);
      (trigger ?? section.heading).focus();
    },
  });
  section.body.append(list, editPanel.element, panel.element);

  // A live update (another tab, device or the worker) must not pull the list from under
  // the customer: re-rendering it would close a card's open menu, or detach the button the
  // delete confirmation returns focus to. While either is open the newest data waits, and
  // is shown once it closes (after the close has returned focus, which then stays put).
  const confirm = document.getElementById("confirm");
  let waiting = null;
  const inUse = () => confirm.open || list.querySelector('[role="menu"]:not([hidden])') !== null;
  const showWaiting = () =>
    setTimeout(() => {
      if (!waiting || inUse()) return;
      const data = waiting;
      waiting = null;
      renderList(data);
    });
  list.addEventListener("menuclose", showWaiting);
  confirm.addEventListener("close", showWaiting);

  function renderList({ account, role }) {
    const cards = account.paymentMethods;
    const note = !account.selfServiceEnabled
      ? h("p", { class: "notice" }, ENTERPRISE_NOTE)
      : role !== "ADMIN"
        ? h("p", { class: "notice" }, "You have read-only access. An account admin can change payment methods.")
        : null;
    replaceKeepingFocus(
      list,
      [
        note,
        cards.length
          ? h("ul", { class: "pm-list", "aria-label": "Cards on file" }, cards.map((pm) => cardRow(app, account, pm, editPanel.open)))
          : h("p", { class: "empty" }, "No payment method on file yet."),
      ],
      section.heading,
    );
  }

  function openPanel(makeDefaultChecked) {
    addButton.hidden = true;
    addButton.setAttribute("aria-expanded", "true");
    panel.open(makeDefaultChecked);
  }

  return {
    element: section.element,
    openAddCard(makeDefaultChecked) {
      if (!app.canWrite) return;
      section.element.scrollIntoView({ block: "start" });
      openPanel(makeDefaultChecked);
    },
    update(data) {
      if (!panel.element.hidden) addButton.hidden = true;
      else addButton.hidden = !app.canWrite;
      if (inUse()) waiting = data;
      else {
        waiting = null;
        renderList(data);
      }
    },
  };
}
