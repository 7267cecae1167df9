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

"""Loopback ports, and bounded waits for things to come up."""

import contextlib
import socket
import time


def family(host):
    """The socket family of an address: IPv6 literals have colons."""
    return socket.AF_INET6 if ':' in host else socket.AF_INET


def free_port(host='127.0.0.1'):
    """A TCP port free on ``host`` right now."""
    with socket.socket(family(host)) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_on_all(hosts):
    """A TCP port free on every one of ``hosts``."""
    for _ in range(50):
        port = free_port(hosts[0])
        try:
            for host in hosts[1:]:
                with socket.socket(family(host)) as s:
                    s.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError('no common free port on %s' % (hosts,))


def preferred_port(port, host='127.0.0.1'):
    """``port`` when it is free on ``host``, else any free one."""
    try:
        with socket.socket(family(host)) as s:
            s.bind((host, port))
        return port
    except OSError:
        return free_port(host)


def listening(host, port):
    """Whether something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError):
        with socket.create_connection((host, port), timeout=1):
            return True
    return False


def wait_for(predicate, timeout, what, interval=0.2):
    """Poll ``predicate`` until it returns a true value, for ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError('timed out after %ss waiting for %s'
                               % (timeout, what))
        time.sleep(interval)
