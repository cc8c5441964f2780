// "Change plan": the plans side by side, then a preview of the change with its invoice
// lines and the amount due today (previewPlanChange), then changePlan with that quote,
// so the card is charged exactly what was shown. 3-D Secure when the bank asks.

import { CHANGE_PLAN, CONFIRM_PAYMENT, PREVIEW_PLAN_CHANGE, isUserError, mutate } from "./api.js";
import { announce, formatDate, h } from "./dom.js";
import { confirmCardPayment } from "./provider.js";

function priceText(plan) {
  if (plan.price.amount === 0) return "Free";
  return `${plan.price.formatted} per ${plan.interval.toLowerCase()}`;
}

function planOption(plan, current, onPreview) {
  const isCurrent = current?.id === plan.id;
  const titleId = `plan-${plan.code}-title`;
  let action;
  if (isCurrent) action = h("p", { class: "badge badge-info" }, "Your current plan");
  else if (plan.tier === "ENTERPRISE") {
    action = h("p", { class: "muted small" }, "Contact sales for Enterprise.");
  } else {
    action = h(
      "button",
      {
        type: "button",
        class: "button button-secondary button-small",
        "aria-describedby": titleId,
        "data-focus-key": `preview-${plan.code}`,
        onclick: (event) => onPreview(event.currentTarget, plan),
      },
      "Preview change",
    );
  }
  return h(
    "li",
    { class: isCurrent ? "plan-option plan-option-current" : "plan-option", "data-plan": plan.code },
    h("h4", { id: titleId, class: "plan-name" }, plan.name),
    h("p", { class: "plan-price" }, priceText(plan)),
    action,
  );
}

function previewView(preview, onConfirm, onBack) {
  const immediate = preview.timing === "IMMEDIATE";
  const when = immediate
    ? "The change takes effect as soon as the payment goes through."
    : `Nothing is charged today. You keep your current plan until ${formatDate(preview.effectiveAt)}, then move to ${preview.plan.name}.`;
  const next = preview.nextBillingDate
    ? `Next bill: ${preview.nextBillingAmount.formatted} on ${formatDate(preview.nextBillingDate)}.`
    : "No further bills after the change.";
  return h(
    "div",
    { class: "plan-preview" },
    h("h4", { id: "plan-preview-title", class: "subhead", tabindex: "-1" }, `Change to ${preview.plan.name}`),
    h("p", {}, when),
    preview.lines.length > 0 &&
      h(
        "table",
        { class: "table preview-table" },
        h("caption", { class: "visually-hidden" }, "What you pay today"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Item"), h("th", { scope: "col", class: "num" }, "Amount"))),
        h(
          "tbody",
          {},
          preview.lines.map((line) =>
            h("tr", {}, h("td", {}, line.description), h("td", { class: "num" }, line.amount.formatted)),
          ),
        ),
        h(
          "tfoot",
          {},
          h("tr", {}, h("th", { scope: "row" }, "Due today"), h("td", { class: "num amount-due" }, preview.amountDueNow.formatted)),
        ),
      ),
    !immediate && h("p", { class: "amount-due-line" }, `Due today: ${preview.amountDueNow.formatted}`),
    h("p", { class: "muted" }, next),
    h("p", { class: "muted small" }, `This price holds until ${new Date(preview.expiresAt).toLocaleTimeString()}.`),
    h(
      "div",
      { class: "form-actions" },
      h(
        "button",
        { type: "button", class: "button", "data-focus-key": "confirm-plan-change", onclick: (event) => onConfirm(event.currentTarget) },
        immediate ? `Confirm and pay ${preview.amountDueNow.formatted}` : "Confirm change",
      ),
      h("button", { type: "button", class: "button button-secondary", onclick: onBack }, "Back to plans"),
    ),
  );
}

/** Make the quoted change; returns the message to announce and whether it worked. */
async function confirmChange(app, preview) {
  const input = {
    accountId: app.data.account.id,
    planId: preview.plan.id,
    quoteId: preview.quoteId,
    idempotencyKey: `portal-${preview.quoteId}`,
  };
  const result = await mutate(app.token, CHANGE_PLAN, { input });
  if (result.__typename === "PaymentDeclinedError") {
    return { ok: false, message: `${result.message} Your plan was not changed.` };
  }
  if (isUserError(result)) return { ok: false, message: result.message, code: result.code };
  const action = result.payment?.nextAction;
  if (action?.clientSecret) {
    announce("Your bank asks you to confirm this payment.");
    const outcome = await confirmCardPayment(app.data.provider, action.clientSecret);
    const confirmed = await mutate(app.token, CONFIRM_PAYMENT, { id: result.payment.id });
    const paid = confirmed.__typename === "PayInvoiceSuccess" && confirmed.invoice.status === "PAID";
    if (!paid) {
      const reason = outcome.error ?? (isUserError(confirmed) ? confirmed.message : null);
      return { ok: false, message: `${reason ?? "The payment was not confirmed."} Your plan was not changed.` };
    }
    return { ok: true, message: `You are now on ${preview.plan.name}.` };
  }
  if (preview.timing === "PERIOD_END") {
    return { ok: true, message: `Your plan changes to ${preview.plan.name} on ${formatDate(preview.effectiveAt)}.` };
  }
  if (result.payment && result.payment.status !== "SUCCEEDED") {
    return { ok: false, message: "The payment is being processed; your plan changes once it is paid." };
  }
  return { ok: true, message: `You are now on ${preview.plan.name}.` };
}

/** The inline panel: plans, then the preview; `onClosed` gets focus back to its opener. */
export function createPlanChangePanel(app, { onClosed }) {
  const element = h("div", {
    id: "plan-change",
    class: "add-card plan-change",
    role: "region",
    "aria-labelledby": "plan-change-title",
    hidden: true,
  });

  function close() {
    element.hidden = true;
    element.replaceChildren();
    onClosed();
  }

  function heading() {
    return h(
      "div",
      { class: "card-head" },
      h("h3", { id: "plan-change-title", class: "panel-title", tabindex: "-1" }, "Change plan"),
      h("button", { type: "button", class: "button button-ghost", onclick: close }, "Close"),
    );
  }

  function showPlans(focusKey = null) {
    const current = app.data.account.subscription?.plan ?? null;
    element.replaceChildren(
      heading(),
      h("p", { class: "muted" }, "Upgrades start now and are prorated to the second; downgrades start at the end of your billing period."),
      h("ul", { class: "plan-grid", "aria-label": "Plans" }, app.data.plans.map((plan) => planOption(plan, current, preview))),
    );
    const target = focusKey ? element.querySelector(`[data-focus-key="${focusKey}"]`) : null;
    (target ?? element.querySelector("#plan-change-title")).focus();
  }

  async function preview(button, plan) {
    await app.run(button, async () => {
      const input = { accountId: app.data.account.id, planId: plan.id };
      const result = await mutate(app.token, PREVIEW_PLAN_CHANGE, { input });
      if (isUserError(result)) {
        announce(result.message, "error");
        return;
      }
      element.replaceChildren(
        heading(),
        previewView(result.preview, (confirmButton) => confirm(confirmButton, result.preview), () => showPlans(`preview-${plan.code}`)),
      );
      element.querySelector("#plan-preview-title").focus();
    }, "Loading…");
  }

  async function confirm(button, shown) {
    await app.run(button, async () => {
      const outcome = await confirmChange(app, shown);
      if (outcome.code === "QUOTE_EXPIRED") {
        announce(`${outcome.message}`, "error");
        showPlans();
        return;
      }
      if (outcome.ok) close();
      await app.reload();
      announce(outcome.message, outcome.ok ? "success" : "error");
    }, "Changing plan…");
  }

  return {
    element,
    open() {
      element.hidden = false;
      showPlans();
    },
    close,
  };
}
