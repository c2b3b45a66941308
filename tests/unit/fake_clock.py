from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FakeClock(object):
    """A monotonic clock and a sleep that advance together, with the sleeps recorded.

    Callable, and also clock() / time(), for the different ways the code under test reads time.
    """

    def __init__(self, sleeps=None):
        self.now = 0.0
        self.sleeps = [] if sleeps is None else sleeps

    def clock(self):
        return self.now

    __call__ = time = clock

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
