// Cancel at the period end (with a reason), undo it before then; and undo a scheduled
// downgrade. Paid features stay on until the period ends.

import {
  CANCEL_PENDING_PLAN_CHANGE,
  CANCEL_SUBSCRIPTION,
  RESUME_SUBSCRIPTION,
  isUserError,
  mutate,
} from "./api.js";
import { announce, formatDate, h } from "./dom.js";

const REASONS = [
  ["TOO_EXPENSIVE", "It's too expensive"],
  ["MISSING_FEATURES", "It's missing features I need"],
  ["SWITCHED_SERVICE", "I'm switching to another service"],
  ["UNUSED", "I don't use it enough"],
  ["CUSTOMER_SERVICE", "Customer service was not good enough"],
  ["TOO_COMPLEX", "It's too hard to use"],
  ["LOW_QUALITY", "The quality was not good enough"],
  ["OTHER", "Another reason"],
];

async function subscriptionChange(app, query, variables, success) {
  const result = await mutate(app.token, query, variables);
  await app.reload();
  if (isUserError(result)) announce(result.message, "error");
  else announce(success, "success");
  return !isUserError(result);
}

export function resume(app, button) {
  const end = formatDate(app.data.account.subscription.currentPeriodEnd);
  return app.run(button, () =>
    subscriptionChange(
      app,
      RESUME_SUBSCRIPTION,
      { input: { accountId: app.data.account.id } },
      `Your subscription continues; it renews on ${end}.`,
    ),
  );
}

export function keepCurrentPlan(app, button) {
  const plan = app.data.account.subscription.plan.name;
  return app.run(button, () =>
    subscriptionChange(
      app,
      CANCEL_PENDING_PLAN_CHANGE,
      { input: { accountId: app.data.account.id } },
      `You stay on ${plan}; the scheduled change was dropped.`,
    ),
  );
}

/** The inline cancel form: a required reason, an optional comment. */
export function createCancelPanel(app, { onClosed }) {
  const element = h("div", {
    class: "add-card cancel-panel",
    role: "region",
    "aria-labelledby": "cancel-title",
    hidden: true,
  });

  function close() {
    element.hidden = true;
    element.replaceChildren();
    onClosed();
  }

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const reason = form.elements.reason;
    const error = form.querySelector("#cancel-reason-error");
    if (!reason.value) {
      reason.setAttribute("aria-invalid", "true");
      error.hidden = false;
      reason.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    const end = formatDate(app.data.account.subscription.currentPeriodEnd);
    await app.run(
      button,
      async () => {
        const comment = form.elements.comment.value.trim() || null;
        const input = { accountId: app.data.account.id, reason: reason.value, comment };
        const ok = await subscriptionChange(
          app,
          CANCEL_SUBSCRIPTION,
          { input },
          `Your subscription is canceled. Paid features stay on until ${end}.`,
        );
        if (ok) close();
      },
      "Canceling…",
    );
  }

  function open() {
    const sub = app.data.account.subscription;
    element.hidden = false;
    element.replaceChildren(
      h("h3", { id: "cancel-title", class: "panel-title", tabindex: "-1" }, "Cancel your subscription"),
      h(
        "p",
        {},
        `Your ${sub.plan.name} features stay on until ${formatDate(sub.currentPeriodEnd)}; then your account moves to the Free plan and nothing more is charged. You can resume before then.`,
      ),
      h(
        "form",
        { class: "form", novalidate: true, onsubmit: submit },
        h(
          "div",
          { class: "field" },
          h("label", { for: "cancel-reason" }, "Why are you canceling?"),
          h(
            "select",
            {
              id: "cancel-reason",
              name: "reason",
              class: "input",
              required: true,
              "aria-describedby": "cancel-reason-error",
              onchange: (e) => {
                e.currentTarget.removeAttribute("aria-invalid");
                element.querySelector("#cancel-reason-error").hidden = true;
              },
            },
            h("option", { value: "" }, "Choose a reason"),
            REASONS.map(([value, label]) => h("option", { value }, label)),
          ),
          h("p", { id: "cancel-reason-error", class: "field-error", hidden: true }, "Choose a reason."),
        ),
        h(
          "div",
          { class: "field" },
          h("label", { for: "cancel-comment" }, "Anything else you'd like to tell us? (optional)"),
          h("textarea", { id: "cancel-comment", name: "comment", class: "input", rows: "3", maxlength: "500" }),
        ),
        h(
          "div",
          { class: "form-actions" },
          h("button", { type: "submit", class: "button button-danger" }, "Cancel subscription"),
          h("button", { type: "button", class: "button button-secondary", onclick: close }, "Keep subscription"),
        ),
      ),
    );
    element.querySelector("#cancel-title").focus();
  }

  return { element, open, close };
}
