"""Shared stand-ins of the unit tests."""


class Clock:
    """A monotonic clock the test moves: ``clock.now += seconds``."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now
