// The order workflow in JavaScript: the durable demo as written for the AWS
// Durable Execution SDK for JavaScript, running on Lamina with only its import
// changed (`@aws/durable-execution-sdk-js` -> `lamina-sdk`).
//
// 1. Step `validate-order` checks the order and computes its total.
// 2. `await-payment` (a wait for callback) hands the callback id to the
//    payment system and suspends: no instance is held meanwhile.
// 3. The payment system completes the callback with {"approved": true}
//    (or false: declined; a callback failure fails the execution).
// 4. Step `fulfill-order` makes a tracking number.
//
// Input: {"orderId": "...", "items": [{"sku": "...", "qty": 1, "price": 9.5}]}.
import { withDurableExecution } from "lamina-sdk";

class InvalidOrder extends Error {
  constructor(message) {
    super(message);
    this.name = "InvalidOrder";
  }
}

function validateAndReserve(orderId, items) {
  if (!String(orderId ?? "").trim()) throw new InvalidOrder("the order has no orderId");
  if (!items || items.length === 0) throw new InvalidOrder(`order ${orderId} has no items`);
  const total = items.reduce((sum, item) => sum + Number(item.qty) * Number(item.price), 0);
  return { orderId, total: Math.round(total * 100) / 100 };
}

function trackingNumber(orderId) {
  // FNV-1a: a stable tracking number from the order id.
  let hash = 0x811c9dc5;
  for (const ch of orderId) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `TRK-${hash.toString(16).toUpperCase().padStart(8, "0")}`;
}

export const handler = withDurableExecution(async (event, context) => {
  const order = await context.step("validate-order", async () => validateAndReserve(event.orderId, event.items));

  const approval = await context.waitForCallback("await-payment", async (callbackId) => {
    // A real system would send the id to the payment service here.
    context.logger.info(`payment callback id for ${order.orderId}: ${callbackId}`);
  });
  const { approved } = typeof approval === "string" ? JSON.parse(approval) : approval;
  if (!approved) return { status: "declined" };

  const result = await context.step("fulfill-order", async () => ({ trackingNumber: trackingNumber(order.orderId) }));
  return { status: "fulfilled", tracking: result.trackingNumber };
});
