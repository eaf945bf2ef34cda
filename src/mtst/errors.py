"""The one exception type for mistakes a user can fix (bad input, bad files, bad config)."""


class MtstError(Exception):
    """A user-facing error: the message says what is wrong and how to fix it."""
