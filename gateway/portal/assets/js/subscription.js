// Current subscription: plan, status, next bill; the past-due banner with its two fixes.

import { badge, createSection, formatDate, h, humanize, replaceKeepingFocus } from "./dom.js";
import { payOutstanding } from "./payments.js";

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

export function createSubscriptionSection(app) {
  const section = createSection("subscription", "Subscription");
  return {
    element: section.element,
    update({ account }) {
      const status = account.subscription?.status;
      const late = status === "PAST_DUE" || status === "UNPAID";
      replaceKeepingFocus(
        section.body,
        [late && pastDueBanner(app, account), details(account)],
        section.heading,
      );
    },
  };
}
