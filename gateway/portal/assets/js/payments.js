// Paying open invoices: payInvoice, then 3-D Secure in the browser when the bank asks
// (payment.nextAction.clientSecret -> stripe.confirmCardPayment -> confirmPayment).

import { CONFIRM_PAYMENT, PAY_INVOICE, isUserError, mutate } from "./api.js";
import { announce, randomKey } from "./dom.js";
import { confirmCardPayment } from "./provider.js";

/** One attempt at one invoice. Returns {paid, message} and never throws a UserError. */
async function attempt(app, invoice) {
  // A fresh key per attempt: a retry after a network failure of *this* call would reuse it.
  const input = { invoiceId: invoice.id, idempotencyKey: randomKey("portal-") };
  let result = await mutate(app.token, PAY_INVOICE, { input });
  const action = result.payment?.nextAction;
  if (result.__typename === "PayInvoiceSuccess" && action?.clientSecret) {
    announce(`Your bank asks you to confirm the payment of invoice ${invoice.number}.`);
    const outcome = await confirmCardPayment(app.data.provider, action.clientSecret);
    // Record the outcome either way: the gateway asks the provider what happened.
    result = await mutate(app.token, CONFIRM_PAYMENT, { id: result.payment.id });
    if (outcome.error && result.__typename === "PayInvoiceSuccess") {
      const paid = result.invoice.status === "PAID";
      return { paid, message: paid ? null : outcome.error };
    }
  }
  if (result.__typename === "PayInvoiceSuccess") {
    const paid = result.invoice.status === "PAID";
    const status = result.payment.status;
    if (paid) return { paid, message: null };
    if (status === "REQUIRES_ACTION") {
      return { paid, message: "The payment still needs your bank's confirmation." };
    }
    return { paid, message: "The payment is being processed. This page will show it once done." };
  }
  if (result.__typename === "PaymentDeclinedError") {
    return {
      paid: false,
      message: `${result.message} Add another card or update your payment method, then retry.`,
    };
  }
  return { paid: false, message: isUserError(result) ? result.message : "The payment failed." };
}

/** Pay one invoice; announces the outcome and reloads the page data. */
export async function payInvoice(app, invoice) {
  const { paid, message } = await attempt(app, invoice);
  await app.reload();
  if (paid) announce(`Invoice ${invoice.number} is paid. Thank you!`, "success");
  else announce(message, "error");
  return paid;
}

/** Pay every open invoice, oldest first, with the default card; stops at the first failure. */
export async function payOutstanding(app) {
  const open = app.data.account.invoices.nodes.filter((i) => i.status === "OPEN").reverse();
  let paidCount = 0;
  for (const invoice of open) {
    const { paid, message } = await attempt(app, invoice);
    if (!paid) {
      await app.reload();
      announce(message, "error");
      return false;
    }
    paidCount += 1;
  }
  await app.reload();
  announce(
    paidCount === 1
      ? "Your outstanding balance is paid. Thank you!"
      : `Your outstanding balance (${paidCount} invoices) is paid. Thank you!`,
    "success",
  );
  return true;
}
