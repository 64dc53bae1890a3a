"""Errors that end a CLI command with exit status 2 and a one-line reason."""


class UserError(Exception):
    """Bad input, a bad file or a bad config: the message is shown to the user as is.

    Raise it with a message that says what was wrong and how to fix it; the CLI
    prints it on one line to stderr and exits 2, never with a traceback.
    """
