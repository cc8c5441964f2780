// Live updates: the page follows the account's billing events (the `billingEvents`
// subscription over GraphQL over SSE, as any front end could) and reloads its data when
// one arrives, so a payment or a card added in another tab or device shows here too.
// fetch() streams the response (EventSource cannot send the Authorization header).
// After a dropped connection it subscribes again `after` the last event it saw.

import { BILLING_EVENTS } from "./api.js";

const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

/** Follow `accountId` from `after`: `onEvent(event)` per event, `onEnd()` when the server
 * ends the stream (it is stopping). Returns a stop function. */
export function followEvents(token, accountId, after, onEvent, onEnd = () => {}) {
  const controller = new AbortController();
  let cursor = after;
  let failures = 0;

  async function once() {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "text/event-stream",
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: BILLING_EVENTS, variables: { accountId, after: cursor } }),
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event === "complete") return;
        if (event !== "next" || !data) continue;
        const payload = JSON.parse(data);
        if (payload.errors?.length) throw new Error(payload.errors[0].message);
        const billingEvent = payload.data.billingEvents;
        cursor = billingEvent.cursor;
        failures = 0;
        onEvent(billingEvent);
      }
    }
  }

  (async () => {
    while (!controller.signal.aborted) {
      let ended = false;
      try {
        await once();
        // The server ended the stream (a restart or deploy): come back, but not at once.
        ended = true;
        onEnd();
      } catch (error) {
        if (controller.signal.aborted) return;
        console.info("billing events: reconnecting", error.message);
      }
      const wait = ended ? 60000 : RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return () => controller.abort();
}
