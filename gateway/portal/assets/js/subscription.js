// Current subscription: plan, status, next bill; the past-due banner with its two fixes.

import { createCancelPanel, keepCurrentPlan, resume } from "./cancellation.js";
import { badge, createSection, formatDate, h, humanize, replaceKeepingFocus } from "./dom.js";
import { payOutstanding } from "./payments.js";
import { createPlanChangePanel } from "./plan-change.js";

const STATUS_TONE = {
  ACTIVE: "good",
  TRIALING: "good",
  PAST_DUE: "bad",
  UNPAID: "bad",
  CANCELED: "neutral",
};

function pastDueBanner(app, account) {
  const fixable = app.canWrite;
  return h(
    "div",
    { class: "banner banner-bad", role: "region", "aria-labelledby": "past-due-title" },
    h("h3", { id: "past-due-title", class: "banner-title" }, "Your last payment failed"),
    h(
      "p",
      {},
      `Paid features are paused until the outstanding balance of ${account.outstandingBalance.formatted} is paid. `,
      account.selfServiceEnabled
        ? "Update your payment method, then pay the balance."
        : "Contact your sales representative to settle it.",
    ),
    fixable &&
      h(
        "div",
        { class: "banner-actions" },
        h(
          "button",
          {
            type: "button",
            class: "button button-secondary",
            "data-focus-key": "update-payment-method",
            onclick: () => app.openAddCard(true),
          },
          "Update payment method",
        ),
        account.outstandingBalance.amount > 0 &&
          h(
            "button",
            {
              type: "button",
              class: "button",
              "data-focus-key": "pay-outstanding",
              onclick: (event) =>
                app.run(event.currentTarget, () => payOutstanding(app), "Paying…"),
            },
            `Pay outstanding balance (${account.outstandingBalance.formatted})`,
          ),
      ),
  );
}

function fact(label, ...value) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, ...value));
}

function details(account) {
  const sub = account.subscription;
  if (!sub) return h("p", { class: "muted" }, "No subscription.");
  const plan = sub.plan;
  const price =
    plan.price.amount > 0 ? `${plan.price.formatted} per ${plan.interval.toLowerCase()}` : "Free";
  const next = sub.nextBillingDate
    ? `${formatDate(sub.nextBillingDate)}${sub.nextBillingAmount ? ` · ${sub.nextBillingAmount.formatted}` : ""}`
    : "—";
  return h(
    "dl",
    { class: "facts" },
    fact("Plan", h("strong", {}, plan.name), h("span", { class: "muted" }, price)),
    fact("Status", badge(humanize(sub.status), STATUS_TONE[sub.status] ?? "neutral")),
    fact("Next billing", next),
    fact("Paid features", sub.paidFeaturesEnabled ? "On" : badge("Paused", "warn")),
  );
}

function scheduledBanner(app, account) {
  const sub = account.subscription;
  if (sub?.cancelAtPeriodEnd) {
    return h(
      "div",
      { class: "banner banner-warn", role: "region", "aria-labelledby": "ending-title" },
      h("h3", { id: "ending-title", class: "banner-title" }, `Your subscription ends on ${formatDate(sub.currentPeriodEnd)}`),
      h("p", {}, `${sub.plan.name} stays on until then; after that your account moves to the Free plan and nothing more is charged.`),
      app.canWrite &&
        h(
          "div",
          { class: "banner-actions" },
          h(
            "button",
            { type: "button", class: "button", "data-focus-key": "resume", onclick: (e) => resume(app, e.currentTarget) },
            "Resume subscription",
          ),
        ),
    );
  }
  if (sub?.pendingChange) {
    const change = sub.pendingChange;
    return h(
      "div",
      { class: "banner banner-warn", role: "region", "aria-labelledby": "pending-title" },
      h("h3", { id: "pending-title", class: "banner-title" }, `Your plan changes to ${change.plan.name} on ${formatDate(change.effectiveAt)}`),
      h("p", {}, `You keep ${sub.plan.name} until then.`),
      app.canWrite &&
        h(
          "div",
          { class: "banner-actions" },
          h(
            "button",
            { type: "button", class: "button button-secondary", "data-focus-key": "keep-plan", onclick: (e) => keepCurrentPlan(app, e.currentTarget) },
            `Keep ${sub.plan.name}`,
          ),
        ),
    );
  }
  return null;
}

const CANCELABLE = ["ACTIVE", "TRIALING", "PAST_DUE"];

export function createSubscriptionSection(app) {
  const section = createSection("subscription", "Subscription");
  const info = h("div", { class: "card-body" });
  const changeButton = h(
    "button",
    { type: "button", class: "button button-secondary", "aria-controls": "plan-change", "aria-expanded": "false" },
    "Change plan",
  );
  const cancelButton = h("button", { type: "button", class: "button button-ghost", "aria-expanded": "false" }, "Cancel subscription");
  const planPanel = createPlanChangePanel(app, {
    onClosed: () => {
      changeButton.setAttribute("aria-expanded", "false");
      changeButton.focus();
    },
  });
  const cancelPanel = createCancelPanel(app, {
    onClosed: () => {
      cancelButton.setAttribute("aria-expanded", "false");
      if (!cancelButton.hidden) cancelButton.focus();
      else section.heading.focus();
    },
  });
  changeButton.addEventListener("click", () => {
    cancelPanel.element.hidden || cancelPanel.close();
    changeButton.setAttribute("aria-expanded", "true");
    planPanel.open();
  });
  cancelButton.addEventListener("click", () => {
    planPanel.element.hidden || planPanel.close();
    cancelButton.setAttribute("aria-expanded", "true");
    cancelPanel.open();
  });
  section.actions.append(changeButton, cancelButton);
  section.body.append(info, planPanel.element, cancelPanel.element);
  return {
    element: section.element,
    update({ account }) {
      const sub = account.subscription;
      const status = sub?.status;
      const late = status === "PAST_DUE" || status === "UNPAID";
      changeButton.hidden = !app.canWrite;
      cancelButton.hidden = !(
        app.canWrite &&
        sub &&
        sub.plan.price.amount > 0 &&
        CANCELABLE.includes(status) &&
        !sub.cancelAtPeriodEnd
      );
      replaceKeepingFocus(
        info,
        [late && pastDueBanner(app, account), scheduledBanner(app, account), details(account)],
        section.heading,
      );
    },
  };
}
