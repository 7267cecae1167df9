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

"""A network namespace of a test's own, which the test process enters.

For what loopback alone cannot give: several IPv6 hosts (``fd00::2``,
``fd00::3``, ...: IPv6 has one loopback address), and a network where a
real DHCP server answers a VM on a tap device. Made with ``ip netns``,
removed however the ``with`` ends.

While inside, the calling thread is in the namespace (``setns``): every
socket it opens, every thread and process it starts from then on is there
too, so a cluster launched inside runs there whole (a database on this
host's 127.0.0.1 is not reachable: use SQLite). Leave it from the same
thread, after stopping what was started inside.
"""

import contextlib
import ctypes
import itertools
import os
import subprocess

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_counter = itertools.count()


def ip(*args, namespace=None):
    """``ip [-n namespace] args``, checked and bounded."""
    prefix = ['ip'] + (['-n', namespace] if namespace else [])
    subprocess.run(prefix + list(args), check=True, timeout=30,
                   capture_output=True)


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, 'setns: %s' % os.strerror(errno))


@contextlib.contextmanager
def namespace(loopback_addresses=()):
    """Enter a new network namespace with its loopback up and
    ``loopback_addresses`` (e.g. ``fd00::2``) on it; yields its name."""
    name = 'ibc-%d-%d' % (os.getpid(), next(_counter))
    ip('netns', 'add', name)
    try:
        ip('link', 'set', 'lo', 'up', namespace=name)
        for address in loopback_addresses:
            prefix = '/128' if ':' in address else '/32'
            ip('addr', 'add', address + prefix, 'dev', 'lo', namespace=name)
        own = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
        try:
            target = os.open('/run/netns/%s' % name, os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield name
            finally:
                _setns(own)
        finally:
            os.close(own)
    finally:
        ip('netns', 'delete', name)


def add_tap(namespace_name, device, addresses):
    """A tap device in the namespace, up, with ``addresses`` (CIDR): the
    network a VM on it (QEMU ``-netdev tap``) and its servers share. It
    goes with the namespace."""
    ip('tuntap', 'add', 'dev', device, 'mode', 'tap',
       namespace=namespace_name)
    for address in addresses:
        # No duplicate address detection: nothing else is on this network.
        flags = ['nodad'] if ':' in address else []
        ip('addr', 'add', address, 'dev', device, *flags,
           namespace=namespace_name)
    ip('link', 'set', device, 'up', namespace=namespace_name)
