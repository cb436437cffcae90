"""The one exception type for a user's mistakes and bad inputs."""


class RnnlmError(Exception):
    """A user-facing error (bad config, bad input, a refused checkpoint): reported as one
    line, never as a traceback."""
