// Small DOM and formatting helpers: no framework, no innerHTML with data.

/** h("button", {class: "x", onclick: fn}, "text", child) -> Element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

let statusTimer = 0;

/** Announce a message in the aria-live status region (and show it as a toast). */
export function announce(message, kind = "info") {
  const region = document.getElementById("status");
  clearTimeout(statusTimer);
  region.className = `status status-${kind}`;
  region.textContent = "";
  // A fresh text node in a live region is what screen readers announce.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
  if (kind !== "error") {
    statusTimer = setTimeout(() => {
      region.className = "status";
      region.textContent = "";
    }, 8000);
  }
}

export function clearStatus() {
  const region = document.getElementById("status");
  region.className = "status";
  region.textContent = "";
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const shortDate = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});

export function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "—";
}

export function formatPeriod(start, end) {
  const a = new Date(start);
  const b = new Date(end);
  return `${shortDate.format(a)} – ${dateFormat.format(b)}`;
}

const BRANDS = {
  visa: "Visa",
  mastercard: "Mastercard",
  amex: "American Express",
  discover: "Discover",
  diners: "Diners Club",
  jcb: "JCB",
  unionpay: "UnionPay",
};

export function brandName(brand) {
  return BRANDS[brand?.toLowerCase()] ?? (brand ? brand[0].toUpperCase() + brand.slice(1) : "Card");
}

export function expiry(month, year) {
  return `${String(month).padStart(2, "0")}/${String(year).slice(-2)}`;
}

/** "PAST_DUE" -> "Past due" */
export function humanize(value) {
  const text = String(value).toLowerCase().replaceAll("_", " ");
  return text[0].toUpperCase() + text.slice(1);
}

/** A random key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function randomKey(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Replace `container`'s children, keeping keyboard focus: the element that had focus is
 * found again by its `data-focus-key`; if it is gone, `fallback` (e.g. the heading) gets it.
 */
export function replaceKeepingFocus(container, children, fallback = null) {
  const active = document.activeElement;
  const hadFocus = active && active !== document.body && container.contains(active);
  const key = hadFocus ? active.dataset.focusKey : null;
  container.replaceChildren(...[children].flat(Infinity).filter(Boolean));
  if (!hadFocus) return;
  const again = key ? container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`) : null;
  (again ?? fallback)?.focus();
}

/**
 * Mark `button` busy while `work()` runs; a second click meanwhile does nothing.
 * aria-disabled, not `disabled`: a disabled button would drop keyboard focus.
 */
export async function busy(button, work, label = null) {
  if (button?.dataset.busy) return undefined;
  const text = button?.textContent;
  if (button) {
    button.dataset.busy = "1";
    button.setAttribute("aria-disabled", "true");
    button.setAttribute("aria-busy", "true");
    if (label) button.textContent = label;
  }
  try {
    return await work();
  } finally {
    if (button) {
      delete button.dataset.busy;
      button.removeAttribute("aria-disabled");
      button.removeAttribute("aria-busy");
      if (label) button.textContent = text;
    }
  }
}

/** A titled card section; returns {element, heading, body, actions}. */
export function createSection(id, title, intro = null) {
  const heading = h("h2", { id: `${id}-title`, class: "card-title", tabindex: "-1" }, title);
  const actions = h("div", { class: "card-head-actions" });
  const body = h("div", { class: "card-body" });
  const element = h(
    "section",
    { id, class: "card", "aria-labelledby": `${id}-title` },
    h("div", { class: "card-head" }, h("div", {}, heading, intro && h("p", { class: "muted" }, intro)), actions),
    body,
  );
  return { element, heading, body, actions };
}

/** A status pill: tone is one of good, warn, bad, neutral. */
export function badge(text, tone = "neutral") {
  return h("span", { class: `badge badge-${tone}` }, text);
}

/** Ask in the page's modal <dialog>; resolves true when confirmed. Focus returns after. */
export function confirmDialog({ title, body, confirmLabel }) {
  const dialog = document.getElementById("confirm");
  const returnTo = document.activeElement;
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector("#confirm-body").textContent = body;
  dialog.querySelector("#confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (returnTo?.isConnected) returnTo.focus();
        resolve(dialog.returnValue === "ok");
      },
      { once: true },
    );
    dialog.showModal();
    dialog.querySelector("[value=cancel]").focus();
  });
}
