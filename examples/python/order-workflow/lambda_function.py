"""The order workflow, in Python: the durable demo as written for the AWS
Durable Execution SDK for Python, running on Lamina with only its import
line changed (``aws_durable_execution_sdk_python`` -> ``lamina_sdk.durable``).

1. Step ``validate-order`` checks the order and computes its total.
2. ``await-payment`` (a wait for callback) hands the callback id to the
   payment system and suspends: no instance is held meanwhile.
3. The payment system completes the callback with ``{"approved": true}``
   (or ``false``: declined; a callback failure fails the execution).
4. Step ``fulfill-order`` makes a tracking number.

Input: ``{"orderId": "...", "items": [{"sku": "...", "qty": 1, "price": 9.5}]}``.
Each step appends a line to ``/data/effects.log`` when the host preopens
``/data``, so a test can see that a step ran once across invocations.
"""

import hashlib

from lamina_sdk.durable import DurableContext, durable_execution

EFFECTS = "/data/effects.log"


class InvalidOrder(Exception):
    """The order cannot be processed."""


def record(line: str) -> None:
    """Appends ``line`` to the effects file, if ``/data`` is there."""
    try:
        with open(EFFECTS, "a", encoding="utf-8") as effects:
            effects.write(line + "\n")
    except OSError:
        pass


def validate_and_reserve(order_id: str, items: list) -> dict:
    if not str(order_id).strip():
        raise InvalidOrder("the order has no orderId")
    if not items:
        raise InvalidOrder(f"order {order_id} has no items")
    total = sum(int(item["qty"]) * float(item["price"]) for item in items)
    record(f"validate-order {order_id}")
    return {"orderId": order_id, "total": round(total, 2)}


def notify_approver(order: dict, callback_id: str) -> None:
    # A real system would send the id to the payment service here.
    print(f"payment callback id for {order['orderId']}: {callback_id}")
    record(f"await-payment {order['orderId']} {callback_id}")


def fulfill_order(order: dict) -> dict:
    digest = hashlib.sha256(order["orderId"].encode()).hexdigest()[:10].upper()
    record(f"fulfill-order {order['orderId']}")
    return {"trackingNumber": f"TRK-{digest}"}


@durable_execution
def lambda_handler(event, context: DurableContext):
    order = context.step(lambda _: validate_and_reserve(event["orderId"], event.get("items", [])),
                         name="validate-order")
    approval = context.wait_for_callback(lambda callback_id: notify_approver(order, callback_id),
                                         name="await-payment")
    if not approval["approved"]:
        return {"status": "declined"}
    result = context.step(lambda _: fulfill_order(order), name="fulfill-order")
    return {"status": "fulfilled", "tracking": result["trackingNumber"]}
