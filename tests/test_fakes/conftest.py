"""The fakes' own fixtures, imported here so these tests work whether or not
``tests/conftest.py`` lists ``tests.fakes.fixtures`` in ``pytest_plugins``."""

from tests.fakes.fixtures import fake_telegram, feed_server, make_smtp_server, smtp_server

__all__ = ["fake_telegram", "feed_server", "make_smtp_server", "smtp_server"]
