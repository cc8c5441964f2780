// Sign-in: a bearer token (the SPA's OIDC token or an API key) kept for this tab only
// (sessionStorage); in demo mode, a picker of the demo accounts.

import { h } from "./dom.js";

const TOKEN_KEY = "billing-portal.token";
const ACCOUNT_KEY = "billing-portal.account";

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get accountId() {
    return sessionStorage.getItem(ACCOUNT_KEY);
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim().replace(/^Bearer\s+/i, ""));
    sessionStorage.removeItem(ACCOUNT_KEY);
  },
  chooseAccount(id) {
    sessionStorage.setItem(ACCOUNT_KEY, id);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ACCOUNT_KEY);
  },
};

async function fetchDemoAccounts() {
  try {
    const response = await fetch("/portal/demo-accounts.json", { cache: "no-store" });
    if (!response.ok) return [];
    const body = await response.json();
    return Array.isArray(body.accounts) ? body.accounts : [];
  } catch {
    return [];
  }
}

function demoPicker(accounts, onToken) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "demo-title" },
    h("h2", { id: "demo-title", class: "card-title" }, "Demo accounts"),
    h("p", { class: "muted" }, "This gateway runs in demo mode. Pick an account to explore."),
    h(
      "ul",
      { class: "demo-list" },
      accounts.map((account) =>
        h(
          "li",
          { class: "demo-item" },
          h(
            "div",
            { class: "demo-text" },
            h("strong", {}, account.email),
            h("span", { class: "muted" }, account.description),
          ),
          h(
            "div",
            { class: "demo-actions" },
            account.keys.admin &&
              h(
                "button",
                {
                  type: "button",
                  class: "button",
                  "aria-label": `Sign in as ${account.email}`,
                  onclick: () => onToken(account.keys.admin),
                },
                "Sign in",
              ),
            account.keys.viewer &&
              h(
                "button",
                {
                  type: "button",
                  class: "button button-secondary",
                  "aria-label": `Sign in as ${account.email}, read only`,
                  onclick: () => onToken(account.keys.viewer),
                },
                "Read only",
              ),
          ),
        ),
      ),
    ),
  );
}

function tokenForm(onToken) {
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    class: "input",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-help",
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "token-title" },
    h("h2", { id: "token-title", class: "card-title" }, "Sign in with a token"),
    h(
      "form",
      {
        class: "form",
        onsubmit: (event) => {
          event.preventDefault();
          if (input.value.trim()) onToken(input.value);
        },
      },
      h(
        "div",
        { class: "field" },
        h("label", { for: "token" }, "Access token"),
        input,
        h(
          "p",
          { id: "token-help", class: "hint" },
          "Your sign-in token or an API key. It is kept in this tab only and forgotten when you close it.",
        ),
      ),
      h("div", { class: "form-actions" }, h("button", { class: "button" }, "Sign in")),
    ),
  );
}

/** Render the sign-in screen into `main`; `onToken(token)` is called on sign-in. */
export async function renderSignIn(main, onToken, error = null) {
  const demo = await fetchDemoAccounts();
  main.replaceChildren(
    h(
      "div",
      { class: "signin" },
      h("h1", { class: "page-title", tabindex: "-1" }, "Sign in to billing"),
      error && h("p", { class: "notice notice-error", role: "alert" }, error),
      demo.length > 0 && demoPicker(demo, onToken),
      tokenForm(onToken),
    ),
  );
}
