// The public GraphQL API, as any customer's own front end would call it.

const ENDPOINT = "/graphql";

export class ApiError extends Error {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
}

/** POST a GraphQL operation; returns `data` or throws ApiError (top-level errors). */
export async function graphql(token, query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError("The billing service cannot be reached. Check your connection and retry.");
  }
  const body = await response.json().catch(() => null);
  if (body?.errors?.length) {
    const [first] = body.errors;
    throw new ApiError(first.message, first.extensions?.code ?? null);
  }
  if (!response.ok || !body?.data) {
    throw new ApiError(`The billing service answered ${response.status}. Please retry.`);
  }
  return body.data;
}

const ERROR_FIELDS = "__typename ... on UserError { code message field }";

const PLAN_FIELDS = `
fragment PlanFields on Plan { id code name tier interval price { amount formatted } }`;

const ACCOUNT_FIELDS = `
fragment AccountFields on Account {
  id name email tier selfServiceEnabled eventsCursor
  subscription {
    id status paidFeaturesEnabled currentPeriodStart currentPeriodEnd nextBillingDate
    nextBillingAmount { amount formatted }
    plan { id name tier interval price { amount formatted } }
    cancelAtPeriodEnd cancellationReason
    pendingChange { plan { id name } effectiveAt }
  }
  paymentMethods { id brand last4 expMonth expYear funding isDefault status }
  billingInfo {
    name email taxId
    address { line1 line2 city state postalCode country }
  }
  outstandingBalance { amount formatted }
  usage {
    periodStart periodEnd overageAmount { amount formatted }
    meters {
      meter { code name unit } used included remaining percentUsed
      overageQuantity overageAmount { amount formatted } allowed
    }
  }
  overage { available enabled capReached monthlyCap { amount formatted } }
  usageNotifications { thresholds email }
  notifications(first: 10) { nodes { id kind message threshold createdAt } }
  invoices(first: 24) {
    totalCount
    nodes {
      id number status periodStart periodEnd issuedAt dueAt paidAt
      total { formatted } amountDue { amount formatted }
      pdfUrl receiptUrl
    }
  }
}`;

/** The account's billing events, live (live.js sends it over SSE). */
export const BILLING_EVENTS = `
subscription PortalEvents($accountId: ID, $after: String) {
  billingEvents(accountId: $accountId, after: $after) { cursor type }
}`;

export const PORTAL_QUERY = `
query Portal {
  viewer {
    role
    account { ...AccountFields }
    accounts(first: 100) { nodes { id name email } }
  }
  paymentProvider { name publishableKey jsUrl }
  plans { ...PlanFields }
}
${ACCOUNT_FIELDS}
${PLAN_FIELDS}`;

export const ACCOUNT_QUERY = `
query PortalAccount($id: ID!) {
  viewer { role }
  account(id: $id) { ...AccountFields }
  paymentProvider { name publishableKey jsUrl }
  plans { ...PlanFields }
}
${ACCOUNT_FIELDS}
${PLAN_FIELDS}`;

export const START_SETUP = `
mutation StartSetup($accountId: ID) {
  startPaymentMethodSetup(input: {accountId: $accountId}) {
    ${ERROR_FIELDS}
    ... on StartPaymentMethodSetupSuccess { clientSecret setupIntentId }
  }
}`;

export const ADD_PAYMENT_METHOD = `
mutation AddPaymentMethod($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) {
    ${ERROR_FIELDS}
    ... on AddPaymentMethodSuccess {
      paymentMethod { id brand last4 status }
      nextAction { type clientSecret }
    }
  }
}`;

export const CONFIRM_PAYMENT_METHOD = `
mutation ConfirmPaymentMethod($id: ID!) {
  confirmPaymentMethod(input: {paymentMethodId: $id}) {
    ${ERROR_FIELDS}
    ... on ConfirmPaymentMethodSuccess { paymentMethod { id last4 status } }
  }
}`;

export const MAKE_DEFAULT = `
mutation MakeDefault($id: ID!) {
  makeDefault(input: {paymentMethodId: $id}) {
    ${ERROR_FIELDS}
    ... on MakeDefaultSuccess { paymentMethod { id last4 isDefault } }
  }
}`;

export const DELETE_PAYMENT_METHOD = `
mutation DeletePaymentMethod($id: ID!) {
  deletePaymentMethod(input: {paymentMethodId: $id}) {
    ${ERROR_FIELDS}
    ... on DeletePaymentMethodSuccess { deletedPaymentMethodId }
  }
}`;

const PAY_RESULT = `
    ${ERROR_FIELDS}
    ... on PayInvoiceSuccess {
      invoice { id number status }
      payment { id status nextAction { type clientSecret } }
    }
    ... on PaymentDeclinedError { declineCode payment { id status failureMessage } }`;

export const PAY_INVOICE = `
mutation PayInvoice($input: PayInvoiceInput!) {
  payInvoice(input: $input) { ${PAY_RESULT} }
}`;

export const CONFIRM_PAYMENT = `
mutation ConfirmPayment($id: ID!) {
  confirmPayment(input: {paymentId: $id}) { ${PAY_RESULT} }
}`;

export const UPDATE_BILLING_INFO = `
mutation UpdateBillingInfo($input: UpdateBillingInfoInput!) {
  updateBillingInfo(input: $input) {
    ${ERROR_FIELDS}
    ... on UpdateBillingInfoSuccess { account { id } }
  }
}`;

export const UPDATE_OVERAGE = `
mutation UpdateOverage($input: UpdateOverageSettingsInput!) {
  updateOverageSettings(input: $input) {
    ${ERROR_FIELDS}
    ... on UpdateOverageSettingsSuccess { overage { enabled monthlyCap { amount } } }
  }
}`;

export const UPDATE_USAGE_NOTIFICATIONS = `
mutation UpdateUsageNotifications($input: UpdateUsageNotificationsInput!) {
  updateUsageNotifications(input: $input) {
    ${ERROR_FIELDS}
    ... on UpdateUsageNotificationsSuccess { usageNotifications { thresholds email } }
  }
}`;

export const PREVIEW_PLAN_CHANGE = `
mutation PreviewPlanChange($input: PlanIdInput!) {
  previewPlanChange(input: $input) {
    ${ERROR_FIELDS}
    ... on PreviewPlanChangeSuccess { preview {
      plan { id name } timing quoteId expiresAt effectiveAt nextBillingDate
      amountDueNow { amount formatted } nextBillingAmount { formatted }
      lines { description amount { formatted } }
    } }
  }
}`;

export const CHANGE_PLAN = `
mutation ChangePlan($input: ChangePlanInput!) {
  changePlan(input: $input) {
    ${ERROR_FIELDS}
    ... on ChangePlanSuccess {
      subscription { plan { name } pendingChange { plan { name } effectiveAt } }
      invoice { id number status }
      payment { id status nextAction { type clientSecret } }
    }
    ... on PaymentDeclinedError { declineCode declined: payment { id status } }
  }
}`;

const SUBSCRIPTION_RESULT = `
    ${ERROR_FIELDS}
    ... on SubscriptionChangeSuccess { subscription { id cancelAtPeriodEnd currentPeriodEnd } }`;

export const CANCEL_SUBSCRIPTION = `
mutation CancelSubscription($input: CancelSubscriptionInput!) {
  cancelSubscription(input: $input) { ${SUBSCRIPTION_RESULT} }
}`;

export const RESUME_SUBSCRIPTION = `
mutation ResumeSubscription($input: AccountIdInput!) {
  resumeSubscription(input: $input) { ${SUBSCRIPTION_RESULT} }
}`;

export const CANCEL_PENDING_PLAN_CHANGE = `
mutation CancelPendingPlanChange($input: AccountIdInput!) {
  cancelPendingPlanChange(input: $input) { ${SUBSCRIPTION_RESULT} }
}`;

export const UPDATE_PAYMENT_METHOD = `
mutation UpdatePaymentMethod($input: UpdatePaymentMethodInput!) {
  updatePaymentMethod(input: $input) {
    ${ERROR_FIELDS}
    ... on UpdatePaymentMethodSuccess { paymentMethod { id last4 expMonth expYear status } }
  }
}`;

/** Run a mutation and return its result union member (switch on `__typename`). */
export async function mutate(token, query, variables) {
  const data = await graphql(token, query, variables);
  return Object.values(data)[0];
}

export function isUserError(result) {
  return Boolean(result && "code" in result && "message" in result);
}
