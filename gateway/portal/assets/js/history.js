// Billing history: one row per invoice, newest period first; Pay on open invoices and
// the invoice / receipt PDFs (signed links from the API) in a new tab.

import { badge, createSection, formatDate, formatPeriod, h, humanize, replaceKeepingFocus } from "./dom.js";
import { payInvoice } from "./payments.js";

const TONE = { PAID: "good", OPEN: "warn", VOID: "neutral", UNCOLLECTIBLE: "bad", DRAFT: "neutral" };

function pdfLink(url, text, number) {
  return h(
    "a",
    {
      class: "link-button",
      href: url,
      target: "_blank",
      rel: "noopener noreferrer",
      "aria-label": `${text} ${number} (PDF, opens in a new tab)`,
    },
    text,
  );
}

function row(app, invoice) {
  const canPay = app.canWrite && invoice.status === "OPEN";
  const when =
    invoice.status === "OPEN" && invoice.dueAt
      ? `Due ${formatDate(invoice.dueAt)}`
      : invoice.status === "PAID" && invoice.paidAt
        ? `Paid ${formatDate(invoice.paidAt)}`
        : null;
  return h(
    "tr",
    { "data-invoice": invoice.number },
    h("td", { "data-label": "Period" }, formatPeriod(invoice.periodStart, invoice.periodEnd)),
    h("th", { scope: "row", "data-label": "Invoice" }, invoice.number),
    h("td", { "data-label": "Date" }, formatDate(invoice.issuedAt)),
    h(
      "td",
      { "data-label": "Amount", class: "num" },
      invoice.total.formatted,
      invoice.status === "OPEN" && invoice.amountDue.amount > 0 && invoice.amountDue.formatted !== invoice.total.formatted
        ? h("span", { class: "muted" }, ` (${invoice.amountDue.formatted} due)`)
        : null,
    ),
    h(
      "td",
      { "data-label": "Status" },
      badge(humanize(invoice.status), TONE[invoice.status]),
      when && h("span", { class: "muted small block" }, when),
    ),
    h(
      "td",
      { class: "actions" },
      canPay &&
        h(
          "button",
          {
            type: "button",
            class: "button button-small",
            "data-focus-key": `pay-${invoice.id}`,
            "aria-label": `Pay invoice ${invoice.number}, ${invoice.amountDue.formatted}`,
            onclick: (event) => app.run(event.currentTarget, () => payInvoice(app, invoice), "Paying…"),
          },
          "Pay",
        ),
      invoice.pdfUrl && pdfLink(invoice.pdfUrl, "Download invoice", invoice.number),
      invoice.receiptUrl && pdfLink(invoice.receiptUrl, "Download receipt", invoice.number),
    ),
  );
}

export function createHistorySection(app) {
  const section = createSection("billing-history", "Billing history");
  return {
    element: section.element,
    update({ account }) {
      const invoices = account.invoices.nodes;
      const more = account.invoices.totalCount - invoices.length;
      replaceKeepingFocus(
        section.body,
        invoices.length === 0
          ? h("p", { class: "empty" }, "No invoices yet.")
          : [
              h(
                "div",
                { class: "table-wrap" },
                h(
                  "table",
                  { class: "table" },
                  h("caption", { class: "visually-hidden" }, "Invoices, newest first"),
                  h(
                    "thead",
                    {},
                    h(
                      "tr",
                      {},
                      ["Period", "Invoice", "Date", "Amount", "Status"].map((t) =>
                        h("th", { scope: "col" }, t),
                      ),
                      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
                    ),
                  ),
                  h("tbody", {}, invoices.map((invoice) => row(app, invoice))),
                ),
              ),
              more > 0 && h("p", { class: "muted" }, `${more} older invoice(s) not shown.`),
            ],
        section.heading,
      );
    },
  };
}
