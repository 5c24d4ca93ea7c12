"""Root conftest: registers the shared fixture modules for the whole suite."""

pytest_plugins = ["tests.dynamodb_fixtures"]
