# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

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
