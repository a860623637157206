from tests.journal.conftest import _postgres_only  # noqa: F401 - skips postgres_only tests on SQLite
