"""Module path of the AWS SDK's ``concurrency`` package."""
