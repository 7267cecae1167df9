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

"""Who may reach the database at all: checks made before the lookup.

/v1/boot is the one unauthenticated route of Ironic that reaches its
database and conductors. Each check here refuses with the same generic 404
as any other failure (never 429 nor Retry-After: iPXE would retry or
follow), and costs microseconds:

* the source address must be in ``[boot_config]allowed_source_cidrs``;
* each source gets ``rate_limit`` requests per second after a burst of
  ``rate_limit_burst`` (a token bucket), remembered for at most
  ``rate_limit_sources`` sources;
* at most ``max_concurrent_requests`` requests are in flight in this
  process; one more waits up to ``max_concurrent_wait`` seconds for a slot
  (a machine in a boot storm is served a moment later, not turned away).

Refusals are logged without flooding the log (:class:`RefusalLog`): the
first at WARNING at once, then one WARNING summary a minute at the most.

The source is the TCP peer (REMOTE_ADDR). ``X-Forwarded-For`` and
``Forwarded`` (RFC 7239) are whatever the sender wrote, so they count only
when the operator says a proxy sets them (Ironic's ``[oslo_middleware]
enable_proxy_headers_parsing``) AND the peer is one of those proxies
(``[boot_config]trusted_proxies``, or any peer of a unix socket, where only
the proxy in front can connect). Then the source is the rightmost address
of the chain that is not a trusted proxy: each trusted proxy appended the
address it saw, and everything left of the first untrusted one is that
sender's own word, never read. A machine that reaches the API directly,
or forges a header through the proxy, gains nothing by it. A request with
both headers (one of them written by the sender: a proxy appends to one of
them) or a hop read that is not an IP address gets the generic 404.

An IPv4 machine reaching a dual-stack socket (``[api]host_ip = ::``, as
Metal3 listens) arrives as ``::ffff:a.b.c.d``: it is the IPv4 address
``a.b.c.d``, matched against IPv4 networks and logged as such.
"""

import collections
import datetime
import ipaddress
import threading
import time

from oslo_log import log

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import request

LOG = log.getLogger(__name__)

_HEADER_CHECK = 'forwarded header'


class ClientAddress:
    """Tells which machine sent a request: ``client(environ) -> address``.

    :param parse_headers: ``[oslo_middleware]enable_proxy_headers_parsing``.
    :param trusted_proxies: the proxies' networks (``ip_network`` objects).
    :param unix_socket: whether the server listens on a unix socket (its
        peers have no address: the proxy in front).
    """

    def __init__(self, parse_headers=False, trusted_proxies=(),
                 unix_socket=False):
        self.parse_headers = parse_headers
        self.trusted_proxies = list(trusted_proxies)
        self.unix_socket = unix_socket

    def __call__(self, environ):
        """The client's address as a string ('' if unknown).

        :raises: Refused for a forwarded header from a trusted proxy that
            does not name a client.
        """
        peer = _bare(environ.get('REMOTE_ADDR') or '')
        if not self.parse_headers or not self._trusted_peer(peer):
            return peer
        xff = environ.get('HTTP_X_FORWARDED_FOR')
        forwarded = environ.get('HTTP_FORWARDED')
        if xff and forwarded:
            raise exception.Refused(
                _HEADER_CHECK, 'refused.header',
                'both X-Forwarded-For and Forwarded: one was written by the '
                'sender, and nothing tells which')
        if xff:
            hops = xff.split(',')
        elif forwarded:
            hops = [_forwarded_for(element)
                    for element in _split_quoted(forwarded, ',')]
        else:
            return peer
        # From the right: each hop was written by the trusted one after
        # it, until the first that is not a proxy. Hops left of that are
        # the sender's own words: neither read nor logged.
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                raise exception.Refused(
                    _HEADER_CHECK, 'refused.header',
                    'forwarded hop "%s" is not an IP address'
                    % request.printable(hop.strip(), 64))
            if not self._is_proxy(address):
                return str(address)
        # Only proxies: the first of them asked itself (a probe).
        return str(address)

    def _trusted_peer(self, peer):
        address = _address(peer)
        if address is None:
            return self.unix_socket
        return self._is_proxy(address)

    def _is_proxy(self, address):
        return any(address in network for network in self.trusted_proxies)


def _split_quoted(text, separator):
    """``text`` split at ``separator`` outside double quotes (RFC 7239's
    quoted-string may hold either separator)."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append(''.join(current))
            current = []
        else:
            current.append(char)
    parts.append(''.join(current))
    return parts


def _forwarded_for(element):
    """The ``for=`` value of one RFC 7239 forwarded-element ('' if none)."""
    for pair in _split_quoted(element, ';'):
        name, _sep, value = pair.partition('=')
        if name.strip().lower() == 'for':
            return value
    return ''


def _address(text):
    """``text`` (a hop or a peer) as an ``ip_address``, or None."""
    try:
        return ipaddress.ip_address(_bare(text))
    except ValueError:
        return None


def _bare(address):
    """'"[2001:db8::1]:4711"' -> '2001:db8::1'; '192.0.2.1:80' -> ...;
    '::ffff:192.0.2.1' -> '192.0.2.1'."""
    address = address.strip().strip('"')
    if address.startswith('['):
        address = address[1:].split(']', 1)[0]
    elif address.count(':') == 1:
        address = address.split(':', 1)[0]
    try:
        mapped = ipaddress.IPv6Address(address).ipv4_mapped
    except ValueError:
        return address
    return str(mapped) if mapped else address


class SourceFilter:
    """Allows only sources inside the given networks (all if none)."""

    def __init__(self, networks):
        self.networks = list(networks)

    def allows(self, source):
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class RateLimiter:
    """A token bucket per source, in a table of bounded size.

    Forgetting the least recently seen source gives it a full bucket again;
    a source that idle refilled its bucket anyway.
    """

    def __init__(self, rate, burst, max_sources):
        self.rate = rate
        self.burst = burst
        self.max_sources = max_sources
        self._buckets = collections.OrderedDict()
        self._lock = threading.Lock()

    def allows(self, source, now=None):
        if not self.rate:
            return True
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, stamp = self._buckets.pop(source, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            allowed = tokens >= 1
            self._buckets[source] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > self.max_sources:
                self._buckets.popitem(last=False)
            return allowed

    def __len__(self):
        return len(self._buckets)


class ConcurrencyCap:
    """At most ``limit`` holders at once (none if 0); ``enter`` waits up to
    ``wait`` seconds for a slot (not at all if 0)."""

    def __init__(self, limit, wait=0.0):
        self._slots = threading.BoundedSemaphore(limit) if limit else None
        self._wait = wait

    def enter(self):
        # A timeout of 0 takes a free slot or returns False at once.
        return self._slots is None or self._slots.acquire(timeout=self._wait)

    def leave(self):
        if self._slots is not None:
            self._slots.release()


class RefusalLog:
    """Says at WARNING that machines are refused, without flooding the log.

    An allow-list that refuses every machine must show in a default log,
    and a flood must not fill it: the first refusal is logged at once, later
    ones are counted and said in one summary per ``interval`` seconds (how
    many, by which option, the last source and reason), when the next
    refusal or :meth:`tick` finds one due. Each is also logged at DEBUG.
    """

    def __init__(self, interval=60.0, clock=time.monotonic):
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = collections.Counter()
        self._last = None
        self._since = None
        self._due = clock()

    def refused(self, check, source, reason):
        """Count a refusal by ``check`` (an option, ``[group]name``) of
        ``source``."""
        LOG.debug('/v1/boot request from %(source)s refused by '
                  '%(check)s: %(reason)s',
                  {'source': source or '-', 'check': check,
                   'reason': reason})
        with self._lock:
            self._counts[check] += 1
            self._last = (source, reason)
            if self._since is None:
                self._since = datetime.datetime.now()
        self.tick()

    def tick(self):
        """Log the summary if one is due (cheap when none is)."""
        if not self._counts or self._clock() < self._due:
            return
        with self._lock:
            if not self._counts or self._clock() < self._due:
                return
            counts, self._counts = self._counts, collections.Counter()
            (source, reason), since = self._last, self._since
            self._since = None
            self._due = self._clock() + self.interval
        LOG.warning('Refused %(total)d /v1/boot request(s) with the generic '
                    '404 since %(since)s: %(counts)s; the last from '
                    '%(source)s: %(reason)s',
                    {'total': sum(counts.values()),
                     'since': since.strftime('%H:%M:%S'),
                     'counts': ', '.join('%s %d' % item
                                         for item in sorted(counts.items())),
                     'source': source or '-', 'reason': reason})
