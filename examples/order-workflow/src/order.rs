//! Orders: validation, totals and tracking numbers.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use lamina_sdk::durable::ErrorObject;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Error type of rejected orders.
const INVALID_ORDER: &str = "InvalidOrder";

/// An order as submitted.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: Option<String>,
    #[serde(default)]
    items: Vec<Item>,
}

/// One line of an order.
#[derive(Deserialize)]
struct Item {
    sku: String,
    qty: u32,
    price: f64,
}

/// A valid order: its id and total.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Validated {
    /// The order id.
    pub order_id: String,
    /// Sum of quantity × price, rounded to cents.
    pub total: f64,
}

fn invalid(message: impl Into<String>) -> ErrorObject {
    ErrorObject::new(INVALID_ORDER, message)
}

/// Checks an order and computes its total.
pub fn validate(raw: &Value) -> Result<Validated, ErrorObject> {
    let order =
        Order::deserialize(raw).map_err(|err| invalid(format!("malformed order: {err}")))?;
    let order_id = order
        .order_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| invalid("the order has no orderId"))?;
    if order.items.is_empty() {
        return Err(invalid(format!("order {order_id} has no items")));
    }
    let mut total = 0.0;
    for item in &order.items {
        if item.qty == 0 {
            return Err(invalid(format!(
                "order {order_id}: item {} has quantity 0",
                item.sku
            )));
        }
        if !item.price.is_finite() || item.price < 0.0 {
            return Err(invalid(format!(
                "order {order_id}: item {} has an invalid price {}",
                item.sku, item.price
            )));
        }
        total += f64::from(item.qty) * item.price;
    }
    Ok(Validated {
        order_id,
        total: (total * 100.0).round() / 100.0,
    })
}

/// `TRK-` and 10 upper-case hex digits from the order id and the time.
pub fn tracking_number(order_id: &str) -> String {
    let mut hasher = DefaultHasher::new();
    order_id.hash(&mut hasher);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    now.hash(&mut hasher);
    format!("TRK-{:010X}", hasher.finish() & 0xFF_FFFF_FFFF)
}
