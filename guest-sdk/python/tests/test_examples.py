"""The Python examples against the in-memory journal (the end-to-end run on
the real host is tests/python/e2e.py)."""

import importlib.util
from pathlib import Path

import pytest

from lamina_sdk.durable import CallbackExternalError, run_durable
from lamina_sdk.durable.memory import InMemoryJournal

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "python"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name.replace('-', '_')}",
                                                  EXAMPLES / name / "lambda_function.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def order(tmp_path):
    module = load("order-workflow")
    module.EFFECTS = str(tmp_path / "effects.log")
    return module


ORDER = '{"orderId": "o-1", "items": [{"sku": "tea", "qty": 2, "price": 4.5}]}'


def effects(order):
    path = Path(order.EFFECTS)
    return path.read_text().splitlines() if path.exists() else []


def test_the_order_workflow_waits_for_payment_then_fulfils_once(order):
    journal = InMemoryJournal(ORDER)
    assert run_durable(order.lambda_handler, journal).status == "PENDING"
    assert run_durable(order.lambda_handler, journal).status == "PENDING"  # still waiting
    journal.complete_callback(journal.callback_op(), '{"approved": true}')
    outcome = run_durable(order.lambda_handler, journal)
    assert outcome.status == "SUCCEEDED", outcome
    assert outcome.result.startswith('{"status":"fulfilled","tracking":"TRK-')
    lines = effects(order)
    assert [line.split()[0] for line in lines] == ["validate-order", "await-payment", "fulfill-order"], lines


def test_a_declined_or_failed_payment(order):
    journal = InMemoryJournal(ORDER)
    run_durable(order.lambda_handler, journal)
    journal.complete_callback(journal.callback_op(), '{"approved": false}')
    assert run_durable(order.lambda_handler, journal).result == '{"status":"declined"}'

    journal = InMemoryJournal(ORDER)
    run_durable(order.lambda_handler, journal)
    journal.complete_callback(journal.callback_op(), error_type="PaymentDeclined")
    outcome = run_durable(order.lambda_handler, journal)
    assert (outcome.status, outcome.error.type) == ("FAILED", CallbackExternalError.__name__)


def test_the_handler_example():
    from lamina_sdk.handler import HandlerError, LambdaContext, run_handler

    hello = load("hello-handler")
    ctx = LambdaContext(function_name="hello-handler", aws_request_id="r-1", remaining_time_ms=1000)
    assert b'"greeting":"Hello, Ada!"' in run_handler(hello.lambda_handler, ctx, b'{"name": "Ada"}')
    with pytest.raises(HandlerError) as err:
        run_handler(hello.lambda_handler, ctx, b"{}")
    assert err.value.error_type == "ValueError"
