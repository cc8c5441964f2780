// The payment provider's browser JS (Stripe.js, or the sandbox's stand-in), loaded from
// `paymentProvider.jsUrl` on first use. Card data goes from its card form to the
// provider; the gateway only ever sees the SetupIntent / PaymentIntent ids.

let loading = null;
const instances = new Map();

function loadScript(url) {
  if (window.Stripe) return Promise.resolve();
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => resolve();
      script.onerror = () => {
        loading = null;
        script.remove();
        reject(new Error("The card form could not be loaded. Please retry."));
      };
      document.head.append(script);
    });
  }
  return loading;
}

/** The provider's client for this publishable key (`Stripe(pk)`). */
export async function providerClient(config) {
  await loadScript(config.jsUrl);
  if (!instances.has(config.publishableKey)) {
    instances.set(config.publishableKey, window.Stripe(config.publishableKey));
  }
  return instances.get(config.publishableKey);
}

// The sandbox's card form is plain inputs named only by placeholders: give them labels.
const FIELD_LABELS = {
  number: "Card number",
  exp_month: "Expiry month (MM)",
  exp_year: "Expiry year (YY)",
  cvc: "Security code (CVC)",
  postal_code: "Postal code",
};

/** Mount the provider's card element in `container`; returns {card, destroy}. */
export async function mountCardForm(config, container, onChange) {
  const stripe = await providerClient(config);
  const elements = stripe.elements();
  const card = elements.create("card", {
    hidePostalCode: false,
    style: { base: { fontSize: "16px", color: "#1f2430" } },
  });
  container.replaceChildren(); // the "loading" text
  card.mount(container);
  for (const input of container.querySelectorAll("input")) {
    const label = FIELD_LABELS[input.getAttribute("placeholder")];
    if (label && !input.hasAttribute("aria-label")) {
      input.setAttribute("aria-label", label);
      input.setAttribute("autocomplete", "off");
      input.setAttribute("inputmode", "numeric");
    }
  }
  container.querySelector("span")?.classList.add("card-form-tag");
  card.on("change", (event) => onChange?.(event?.error?.message ?? null));
  return { stripe, card, destroy: () => card.destroy() };
}

function errorMessage(error, fallback) {
  if (!error) return fallback;
  if (typeof error === "string") return error;
  // A script error inside the provider's JS (e.g. an empty card form) is not a message
  // for the customer.
  if (error instanceof TypeError) return fallback;
  return error.message || fallback;
}

/** stripe.confirmCardSetup: collects the card and runs 3-D Secure when the bank asks. */
export async function confirmCardSetup(stripe, card, clientSecret, billingName) {
  const data = { payment_method: { card } };
  if (billingName) data.payment_method.billing_details = { name: billingName };
  let result;
  try {
    result = await stripe.confirmCardSetup(clientSecret, data);
  } catch (error) {
    return { error: errorMessage(error, "Check the card details and try again.") };
  }
  if (result?.error || !result?.setupIntent) {
    return { error: errorMessage(result?.error, "Check the card details and try again.") };
  }
  return { setupIntentId: result.setupIntent.id };
}

/** stripe.confirmCardPayment for a payment that needs 3-D Secure. */
export async function confirmCardPayment(config, clientSecret) {
  const stripe = await providerClient(config);
  try {
    const result = await stripe.confirmCardPayment(clientSecret);
    if (result?.error) return { error: errorMessage(result.error, "Authentication failed.") };
    return { status: result?.paymentIntent?.status ?? null };
  } catch (error) {
    return { error: errorMessage(error, "Authentication failed.") };
  }
}
