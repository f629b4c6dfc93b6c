"""A Lambda-style Python handler on Lamina (world lamina:function/function).

    {"name": "Ada"}  ->  {"greeting": "Hello, Ada!", "functionName": ..., "requestId": ..., "remainingMs": ...}
    {}               ->  fails with ValueError: "name is required"
"""


def lambda_handler(event, context):
    name = event.get("name") if isinstance(event, dict) else None
    if not name:
        raise ValueError("name is required")
    return {
        "greeting": f"Hello, {name}!",
        "functionName": context.function_name,
        "requestId": context.aws_request_id,
        "remainingMs": context.get_remaining_time_in_millis(),
    }
