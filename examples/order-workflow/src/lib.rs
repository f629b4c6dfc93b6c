//! Durable demo: an order workflow that waits for a payment approval.
//!
//! 1. Step `validate-order` checks the order and computes its total.
//! 2. `await-payment` (a wait for callback, timeout one hour) logs the
//!    callback id for the payment system and suspends: the execution holds
//!    no instance until the callback is completed.
//! 3. The payment system completes the callback with `{"approved": true}`
//!    (or `false`, or a failure, both meaning declined).
//! 4. Step `fulfill-order` makes a tracking number.
//!
//! The input is `{"orderId": "...", "items": [{"sku": "...", "qty": 1,
//! "price": 9.5}]}`, either as is or under an `"Input"` key. Each step
//! appends a line to `/data/effects.log` when `/data` is preopened, so a
//! demo can show that a step ran once even across crashes.
//!
//! The result is `{"status": "fulfilled", "orderId", "total",
//! "trackingNumber"}` or `{"status": "declined", "orderId"}`; an invalid
//! order fails the execution with `InvalidOrder`, and a payment that never
//! arrives with the callback's timeout error.

mod effects;
mod order;

use std::time::Duration;

use lamina_sdk::durable::{
    DurableContext, DurableError, RetryStrategy, StepConfig, WaitForCallbackConfig, ok,
};
use serde_json::{Value, json};

use crate::order::Validated;

/// How long the payment system has to answer.
const PAYMENT_TIMEOUT: Duration = Duration::from_secs(3600);

fn handle(event: Value, ctx: &DurableContext) -> Result<Value, DurableError> {
    let raw_order = match event.get("Input") {
        Some(input) => input.clone(),
        None => event,
    };

    let validate = StepConfig::new().with_retry_strategy(RetryStrategy::none());
    let order: Validated = ctx.step_with(Some("validate-order"), validate, |_| {
        let order = order::validate(&raw_order)?;
        effects::append(&format!("validate-order {}\n", order.order_id));
        ok(order)
    })?;
    ctx.logger().info(format!(
        "order {} validated, total {:.2}",
        order.order_id, order.total
    ));

    let order_id = order.order_id.clone();
    let payment = ctx.wait_for_callback(
        Some("await-payment"),
        |callback_id, step| {
            step.logger()
                .info(format!("payment callback id: {callback_id}"));
            effects::append(&format!("await-payment {order_id} {callback_id}\n"));
            ok(())
        },
        WaitForCallbackConfig::new().with_timeout(PAYMENT_TIMEOUT),
    );
    let approved = match payment {
        Ok(payload) => is_approval(&payload),
        Err(DurableError::CallbackFailed(err)) => {
            ctx.logger().warn(format!(
                "payment for order {} failed: {err}",
                order.order_id
            ));
            false
        }
        Err(other) => return Err(other),
    };
    if !approved {
        ctx.logger()
            .info(format!("order {} declined", order.order_id));
        return Ok(json!({ "status": "declined", "orderId": order.order_id }));
    }

    let tracking: String = ctx.step_named("fulfill-order", |_| {
        let tracking = order::tracking_number(&order.order_id);
        effects::append(&format!("fulfill-order {}\n", order.order_id));
        ok(tracking)
    })?;
    ctx.logger().info(format!(
        "order {} fulfilled, tracking {tracking}",
        order.order_id
    ));
    Ok(json!({
        "status": "fulfilled",
        "orderId": order.order_id,
        "total": order.total,
        "trackingNumber": tracking,
    }))
}

/// Whether the payment payload approves: `{"approved": true}` (or plain
/// `true`). Anything else declines.
fn is_approval(payload: &Value) -> bool {
    payload
        .get("approved")
        .and_then(Value::as_bool)
        .or_else(|| payload.as_bool())
        .unwrap_or(false)
}

lamina_sdk::durable_handler!(handle);
