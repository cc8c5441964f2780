"""The benchmark's two GraphQL documents; bench/raw_app.py answers the same shapes."""

BILLING_PAGE = """
query BillingPage {
  viewer {
    account {
      name tier selfServiceEnabled
      subscription {
        status paidFeaturesEnabled nextBillingDate
        plan { name price { formatted } interval }
        nextBillingAmount { formatted }
      }
      paymentMethods { id brand last4 expMonth expYear isDefault status }
      outstandingBalance { formatted }
      invoices(first: 12) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node {
          id number status periodStart periodEnd paidAt
          total { formatted } amountDue { formatted }
          lines { description quantity amount { formatted } }
          payments { status failureMessage paymentMethod { last4 } }
        } }
      }
    }
  }
}
"""

PARTNER = """
query Partner {
  viewer {
    accounts(first: 100) {
      nodes {
        id name
        subscription { status plan { name price { amount currency formatted } } }
        paymentMethods { id brand last4 isDefault status }
        defaultPaymentMethod { id last4 }
        invoices(first: 12) {
          totalCount
          nodes {
            id number status total { amount formatted }
            lines { description amount { amount currency formatted } }
            payments { status paymentMethod { last4 } }
          }
        }
        outstandingBalance { amount currency formatted }
      }
    }
  }
}
"""

PAY_INVOICE = """
mutation Pay($invoiceId: ID!) {
  payInvoice(input: {invoiceId: $invoiceId}) {
    __typename
    ... on PayInvoiceSuccess { payment { status } }
    ... on UserError { code message }
  }
}
"""
