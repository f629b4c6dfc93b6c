"""Lamina's Python guest SDK.

* ``lamina_sdk.durable``: durable functions with the AWS Durable Execution
  SDK for Python's API (world ``lamina:durable/durable-function``).
* ``lamina_sdk.handler``: Lambda-style handlers,
  ``def lambda_handler(event, context)`` (world ``lamina:function/function``).

Build a module into a component with ``scripts/build-python-guests.sh``
(componentize-py); see docs/python.md.
"""

__version__ = "0.1.0"
