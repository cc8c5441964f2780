// The billing portal: sign in, load the account with one query, render the sections.
// Each section renders its own body from the latest data; after a change the page
// reloads the data (one query) and every section updates in place.

import { ACCOUNT_QUERY, ApiError, PORTAL_QUERY, graphql } from "./api.js";
import { renderSignIn, session } from "./auth.js";
import { announce, busy, clearStatus, h } from "./dom.js";
import { createBillingInfoSection } from "./billing-info.js";
import { createHistorySection } from "./history.js";
import { createPaymentMethodsSection } from "./payment-methods.js";
import { createSubscriptionSection } from "./subscription.js";
import { createUsageSection } from "./usage.js";
import { followEvents } from "./live.js";

const main = document.getElementById("main");
const sessionBar = document.getElementById("session");

const app = {
  data: null,
  sections: [],
  accountId: null,
  get token() {
    return session.token;
  },
  /** Admins of self-service accounts may change billing; everyone else reads. */
  get canWrite() {
    const { role, account } = this.data;
    return role === "ADMIN" && account.selfServiceEnabled;
  },
  /** Run an action from `button`: busy state, and any failure announced. */
  async run(button, work, busyLabel = null) {
    try {
      return await busy(button, work, busyLabel);
    } catch (error) {
      announce(error.message || "Something went wrong. Please retry.", "error");
      return undefined;
    }
  },
  async reload() {
    this.data = await fetchData();
    render();
  },
  /** Stops following the current account's events (live.js). */
  stopEvents: null,
  /** Focus a section's main control, e.g. the add-card form from the past-due banner. */
  openAddCard(makeDefault) {
    this.sections.find((s) => s.openAddCard)?.openAddCard(makeDefault);
  },
};

async function fetchData() {
  const token = session.token;
  const chosen = session.accountId;
  if (chosen) {
    const data = await graphql(token, ACCOUNT_QUERY, { id: chosen });
    if (data.account) {
      return {
        role: data.viewer.role,
        account: data.account,
        provider: data.paymentProvider,
        plans: data.plans,
      };
    }
  }
  const data = await graphql(token, PORTAL_QUERY);
  return {
    role: data.viewer.role,
    account: data.viewer.account,
    accounts: data.viewer.accounts.nodes,
    provider: data.paymentProvider,
    plans: data.plans,
  };
}

function renderSessionBar() {
  const signedIn = Boolean(session.token);
  const account = app.data?.account;
  sessionBar.replaceChildren(
    account ? h("span", { class: "session-account" }, account.email) : "",
    app.data?.role
      ? h("span", { class: "badge badge-neutral", title: "Your access" }, roleLabel(app.data.role))
      : "",
    signedIn
      ? h("button", { type: "button", class: "button button-ghost", onclick: signOut }, "Sign out")
      : "",
  );
}

function roleLabel(role) {
  return { ADMIN: "Admin", VIEWER: "Read only", PARTNER: "Partner · read only" }[role] ?? role;
}

function accountPicker(accounts) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "pick-title" },
    h("h2", { id: "pick-title", class: "card-title" }, "Choose an account"),
    h("p", { class: "muted" }, "Your access covers several accounts."),
    h(
      "ul",
      { class: "demo-list" },
      accounts.map((account) =>
        h(
          "li",
          { class: "demo-item" },
          h("div", { class: "demo-text" }, h("strong", {}, account.name), account.email),
          h(
            "button",
            {
              type: "button",
              class: "button",
              "aria-label": `Open ${account.name}`,
              onclick: () => {
                session.chooseAccount(account.id);
                start();
              },
            },
            "Open",
          ),
        ),
      ),
    ),
  );
}

function render() {
  renderSessionBar();
  const { account } = app.data;
  if (!account) {
    app.accountId = null;
    app.sections = [];
    main.replaceChildren(
      h("h1", { class: "page-title" }, "Billing"),
      app.data.accounts?.length
        ? accountPicker(app.data.accounts)
        : h("p", { class: "notice" }, "This access token is not linked to any account."),
    );
    return;
  }
  if (app.accountId !== account.id) {
    // First render for this account: build the sections once; later renders update them.
    app.accountId = account.id;
    follow(account);
    app.sections = [
      createSubscriptionSection(app),
      createUsageSection(app),
      createPaymentMethodsSection(app),
      createBillingInfoSection(app),
      createHistorySection(app),
    ];
    main.replaceChildren(
      h(
        "div",
        { class: "page-head" },
        h("h1", { class: "page-title", id: "page-title", tabindex: "-1" }, "Billing"),
        h("p", { class: "muted" }, account.name),
      ),
      ...app.sections.map((section) => section.element),
    );
  }
  for (const section of app.sections) section.update(app.data);
}

/** Reload when a billing event arrives (changes made in another tab, device or by the
 * worker); a burst of events (a payment: succeeded, invoice paid, subscription active
 * again) costs one reload. Follows from the cursor read with the data: nothing is missed. */
function follow(account) {
  app.stopEvents?.();
  let pending = null;
  const reloadSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (app.accountId === account.id) app.reload().catch(() => {});
    }, 150);
  };
  // A server that ends the stream is stopping: no reload against it.
  const stopped = () => clearTimeout(pending);
  app.stopEvents = followEvents(app.token, account.id, account.eventsCursor, reloadSoon, stopped);
}

async function start() {
  app.stopEvents?.();
  app.stopEvents = null;
  clearStatus();
  if (!session.token) {
    app.data = null;
    renderSessionBar();
    await renderSignIn(main, signIn);
    return;
  }
  try {
    app.data = await fetchData();
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") {
      session.signOut();
      app.data = null;
      renderSessionBar();
      await renderSignIn(main, signIn, "That token was not accepted. Check it and sign in again.");
      return;
    }
    main.replaceChildren(
      h("p", { class: "notice notice-error", role: "alert" }, error.message),
      h("button", { type: "button", class: "button", onclick: start }, "Retry"),
    );
    return;
  }
  app.accountId = null;
  render();
  document.getElementById("page-title")?.focus();
}

function signIn(token) {
  session.signIn(token);
  start();
}

function signOut() {
  session.signOut();
  app.data = null;
  app.accountId = null;
  start().then(() => announce("You are signed out."));
}

// Last resort (the actions handle their own errors): tell the customer, keep the console.
window.addEventListener("unhandledrejection", (event) => {
  const message = event.reason?.message ?? "Something went wrong.";
  announce(message, "error");
});

start();
