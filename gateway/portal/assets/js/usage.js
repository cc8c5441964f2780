// Usage: a meter bar per meter (used of included, the overage part marked), the period,
// the projected overage charge, the overage switch with its cap, the notification
// thresholds, and the notifications received. Read from the page's one query.

import { UPDATE_OVERAGE, UPDATE_USAGE_NOTIFICATIONS, isUserError, mutate } from "./api.js";
import { announce, badge, busy, createSection, formatDate, formatPeriod, h, replaceKeepingFocus } from "./dom.js";

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** Width as a share of the bar, set through the CSSOM (the CSP allows no style attributes). */
function sized(element, share) {
  element.style.width = `${share * 100}%`;
  return element;
}

function meterBar(meter) {
  const used = Number(meter.used);
  const included = Number(meter.included);
  const scale = Math.max(used, included) || 1;
  const within = Math.min(used, included);
  const over = Math.max(used - included, 0);
  const unit = meter.meter.name.toLowerCase();
  const label = `${number.format(used)} of ${number.format(included)} ${unit} used`;
  const id = `meter-${meter.meter.code}`;
  return h(
    "div",
    { class: "meter" },
    h(
      "div",
      { class: "meter-head" },
      h("span", { class: "meter-name", id: `${id}-label` }, meter.meter.name),
      h("span", { class: "meter-figures" }, label),
      meter.allowed ? badge("Available", "good") : badge("Blocked", "bad"),
    ),
    h(
      "div",
      {
        class: "meter-bar",
        role: "meter",
        "aria-labelledby": `${id}-label`,
        "aria-valuemin": "0",
        "aria-valuemax": String(included),
        "aria-valuenow": String(Math.min(used, included)),
        "aria-valuetext": `${label} (${number.format(meter.percentUsed)} %)`,
      },
      sized(h("span", { class: "meter-fill" }), within / scale),
      over > 0 && sized(h("span", { class: "meter-over" }), over / scale),
    ),
    over > 0 &&
      h(
        "p",
        { class: "hint" },
        `${number.format(over)} ${unit} past your allowance`,
        Number(meter.overageQuantity) > 0
          ? `; ${number.format(Number(meter.overageQuantity))} billed as overage (${meter.overageAmount.formatted}).`
          : "; not billed (overage is off).",
      ),
  );
}

function overageForm(app, account) {
  const overage = account.overage;
  const readOnly = !app.canWrite || !overage.available;
  const enabled = h("input", {
    id: "overage-enabled",
    name: "enabled",
    type: "checkbox",
    class: "checkbox",
    checked: overage.enabled,
    disabled: readOnly,
  });
  const cap = h("input", {
    id: "overage-cap",
    name: "cap",
    class: "input input-money",
    inputmode: "decimal",
    value: overage.monthlyCap ? (overage.monthlyCap.amount / 100).toFixed(2) : "",
    readonly: readOnly,
    "aria-describedby": "overage-cap-hint",
  });
  const error = h("p", { id: "overage-cap-error", class: "field-error", hidden: true });
  const save = h("button", { class: "button", type: "submit", "data-focus-key": "save-overage" }, "Save overage");
  const form = h(
    "form",
    { class: "form", "aria-labelledby": "overage-title", novalidate: true },
    h("h3", { id: "overage-title", class: "subhead" }, "Overage"),
    !overage.available &&
      h(
        "p",
        { class: "muted" },
        account.selfServiceEnabled
          ? "Your plan has no overage: upgrade to use more than it includes."
          : "Overage is arranged with your account team.",
      ),
    h(
      "div",
      { class: "field field-inline" },
      enabled,
      h("label", { for: "overage-enabled" }, "Bill usage past my allowance"),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "overage-cap" }, "Spending cap per billing period (USD)"),
      cap,
      h("p", { id: "overage-cap-hint", class: "hint" }, "Leave empty for no cap. Usage stops at the cap; you are never charged past it."),
      error,
    ),
    overage.capReached && h("p", { class: "notice notice-error" }, "Your cap is reached: usage is blocked until the next period or a higher cap."),
    !readOnly && h("div", { class: "form-actions" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    cap.removeAttribute("aria-invalid");
    const text = cap.value.trim();
    const monthlyCap = text ? Math.round(Number(text) * 100) : null;
    if (text && !(Number(text) >= 0)) {
      showFieldError(cap, error, "Enter an amount like 50 or 12.50.");
      return;
    }
    await busy(save, async () => {
      try {
        const result = await mutate(app.token, UPDATE_OVERAGE, {
          input: { accountId: account.id, enabled: enabled.checked, monthlyCap },
        });
        if (isUserError(result)) {
          if (result.field === "monthlyCap") showFieldError(cap, error, result.message);
          announce(`Not saved: ${result.message}`, "error");
          return;
        }
        await app.reload();
        announce("Overage settings saved.", "success");
      } catch (failure) {
        announce(failure.message, "error");
      }
    }, "Saving…");
  });
  return form;
}

function showFieldError(input, error, message) {
  error.textContent = message;
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", "overage-cap-hint overage-cap-error");
  input.focus();
}

function thresholdsForm(app, account) {
  const settings = account.usageNotifications;
  const readOnly = !app.canWrite;
  const levels = h("input", {
    id: "usage-thresholds",
    name: "thresholds",
    class: "input",
    value: settings.thresholds.join(", "),
    readonly: readOnly,
    "aria-describedby": "usage-thresholds-hint",
  });
  const email = h("input", {
    id: "usage-email",
    name: "email",
    type: "checkbox",
    class: "checkbox",
    checked: settings.email,
    disabled: readOnly,
  });
  const error = h("p", { id: "usage-thresholds-error", class: "field-error", hidden: true });
  const save = h("button", { class: "button button-secondary", type: "submit", "data-focus-key": "save-thresholds" }, "Save notifications");
  const form = h(
    "form",
    { class: "form", "aria-labelledby": "thresholds-title", novalidate: true },
    h("h3", { id: "thresholds-title", class: "subhead" }, "Usage notifications"),
    h(
      "div",
      { class: "field" },
      h("label", { for: "usage-thresholds" }, "Notify me at these percentages of my allowance"),
      levels,
      h("p", { id: "usage-thresholds-hint", class: "hint" }, "Up to 10 values from 1 to 1000, separated by commas, e.g. 80, 90, 100."),
      error,
    ),
    h("div", { class: "field field-inline" }, email, h("label", { for: "usage-email" }, "Also send them by email")),
    !readOnly && h("div", { class: "form-actions" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    levels.removeAttribute("aria-invalid");
    const parts = levels.value.split(/[\s,]+/).filter(Boolean);
    const thresholds = parts.map(Number);
    if (thresholds.some((t) => !Number.isInteger(t))) {
      showThresholdError(levels, error, "Use whole numbers, e.g. 80, 90, 100.");
      return;
    }
    await busy(save, async () => {
      try {
        const result = await mutate(app.token, UPDATE_USAGE_NOTIFICATIONS, {
          input: { accountId: account.id, thresholds, email: email.checked },
        });
        if (isUserError(result)) {
          if (result.field === "thresholds") showThresholdError(levels, error, result.message);
          announce(`Not saved: ${result.message}`, "error");
          return;
        }
        await app.reload();
        announce("Notification settings saved.", "success");
      } catch (failure) {
        announce(failure.message, "error");
      }
    }, "Saving…");
  });
  return form;
}

function showThresholdError(input, error, message) {
  error.textContent = message;
  error.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", "usage-thresholds-hint usage-thresholds-error");
  input.focus();
}

function notificationList(account) {
  const items = account.notifications.nodes;
  return h(
    "div",
    { class: "notifications" },
    h("h3", { class: "subhead", id: "notifications-title" }, "Notifications"),
    items.length
      ? h(
          "ul",
          { class: "notification-list", "aria-labelledby": "notifications-title" },
          items.map((n) =>
            h(
              "li",
              { class: "notification" },
              h("time", { datetime: n.createdAt, class: "muted" }, formatDate(n.createdAt)),
              h("span", {}, n.message),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No notifications this period."),
  );
}

function body(app, account) {
  const usage = account.usage;
  if (!usage || usage.meters.length === 0) {
    return h("p", { class: "muted" }, "Your plan has no metered usage.");
  }
  return [
    h(
      "dl",
      { class: "facts" },
      h("div", { class: "fact" }, h("dt", {}, "Period"), h("dd", {}, formatPeriod(usage.periodStart, usage.periodEnd))),
      h(
        "div",
        { class: "fact" },
        h("dt", {}, "Projected overage charge"),
        h("dd", {}, h("strong", {}, usage.overageAmount.formatted), h("span", { class: "muted" }, "on your next invoice")),
      ),
    ),
    usage.meters.map(meterBar),
    h("div", { class: "usage-settings" }, overageForm(app, account), thresholdsForm(app, account)),
    notificationList(account),
  ];
}

export function createUsageSection(app) {
  const section = createSection("usage", "Usage", "What you used this billing period, and what happens past your allowance.");
  let shownFor = null;
  return {
    element: section.element,
    update({ account }) {
      // Rebuild only when the data changed, so a half-typed form is kept.
      const snapshot = JSON.stringify([account.id, account.usage, account.overage, account.usageNotifications, account.notifications, app.canWrite]);
      if (snapshot === shownFor) return;
      shownFor = snapshot;
      replaceKeepingFocus(section.body, body(app, account), section.heading);
    },
  };
}
