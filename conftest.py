"""Root conftest: registers the shared fixture modules for the whole suite."""

pytest_plugins = [
    "tests.dynamodb_fixtures",
    # Every DynamoDB call the suite makes must be granted by deploy/aws's IAM policies.
    "tests.production.dynamodb_calls",
]
