"""The client's tests reuse the journal fixture (a semester and a lesson of world.teacher's journal)."""

from tests.journal.conftest import journal  # noqa: F401 - fixture reused here
