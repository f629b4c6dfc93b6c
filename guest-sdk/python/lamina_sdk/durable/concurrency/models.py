"""Batch results at the AWS SDK's module path
(``aws_durable_execution_sdk_python.concurrency.models``)."""

from ..batch import BatchItem, BatchItemStatus, BatchResult, CompletionPolicy, CompletionReason

__all__ = ["BatchItem", "BatchItemStatus", "BatchResult", "CompletionPolicy", "CompletionReason"]
