"""The one MAC allocator of the tests, the demo and the benchmark.

Every MAC it hands out is new in this process (QEMU's ``52:54:00`` prefix,
then a counter), so nodes, bulk nodes and VMs never share one. Addresses
from ``52:54:00:ff:00:00`` up are never handed out: tests use them as MACs
that no port has.
"""

import itertools
import threading


class MacAllocator:
    """``52:54:00:xx:xx:xx`` addresses from ``first`` on, each once."""

    LIMIT = 0xff0000

    def __init__(self, first=1):
        self._counter = itertools.count(first)
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            n = next(self._counter)
        if n >= self.LIMIT:
            raise RuntimeError('MAC addresses exhausted')
        return '52:54:00:%02x:%02x:%02x' % (n >> 16, (n >> 8) & 0xff,
                                            n & 0xff)

    def take(self, count):
        """``count`` new MACs."""
        return [self() for _ in range(count)]


#: The allocator the tests share: ``macs.new()``.
new = MacAllocator()
