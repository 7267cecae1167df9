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
