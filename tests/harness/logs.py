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

"""The filter's own log line per /v1/boot request, parsed from a process log.

A line reads ``... ironic_boot_config_mw.api.middleware ... GET <path> from
<source>: <status>, ...``.
"""

import datetime
import re
import typing

_LINE = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \d+ \w+ '
                   r'ironic_boot_config_mw\.api\.middleware .*?'
                   r'(GET|HEAD) (\S+) from \S+: (\d{3})')


class BootRequest(typing.NamedTuple):
    """One /v1/boot request, as the API logged it."""

    when: float  # time.time(), truncated to the millisecond by the log
    method: str
    path: str
    status: int

    def for_mac(self, mac, name='boot.ipxe'):
        """Whether it asked for ``mac`` (any spelling) and ``name``."""
        parts = self.path.split('/')  # '', 'v1', 'boot', MAC, NAME
        if len(parts) != 5:
            return False
        got = parts[3].replace('%3A', ':').replace('%3a', ':')
        return (got.replace('-', ':').lower() == mac.lower()
                and parts[4] == name)


_ACCESS = re.compile(r'^(\d+\.\d+) (\S+) "(\S+) (\S+)[^"]*" (\d{3}) ')


class AccessRequest(typing.NamedTuple):
    """One request, as nginx or httpd logged it (their ``timed`` format)."""

    when: float
    client: str
    method: str
    path: str
    status: int


def access_log(path, since=0.0):
    """The requests in an nginx or httpd access log since ``since``."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    result = []
    for line in lines:
        m = _ACCESS.match(line)
        if m and float(m.group(1)) >= since - 0.001:
            result.append(AccessRequest(float(m.group(1)), m.group(2),
                                        m.group(3), m.group(4),
                                        int(m.group(5))))
    return result


def boot_requests(text, since=0.0):
    """The /v1/boot requests logged in ``text`` since ``since``."""
    result = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            when = datetime.datetime.strptime(
                m.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp()
            if when >= since - 0.001:
                result.append(BootRequest(when, m.group(2), m.group(3),
                                          int(m.group(4))))
    return result
