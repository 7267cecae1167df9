"""Who may reach the database at all: checks made before the lookup.

/v1/boot is the one unauthenticated route of Ironic that reaches its
database and conductors. Each check here refuses with the same generic 404
as any other failure (never 429 nor Retry-After: iPXE would retry or
follow), and costs microseconds:

* the source address must be in ``[boot_config]allowed_source_cidrs``;
* each source gets ``rate_limit`` requests per second after a burst of
  ``rate_limit_burst`` (a token bucket), remembered for at most
  ``rate_limit_sources`` sources;
* at most ``max_concurrent_requests`` requests are in flight in this process.

The source is the TCP peer (REMOTE_ADDR). ``X-Forwarded-For`` and
``Forwarded`` are client-controlled and count only when the operator says a
proxy sets them (Ironic's ``[oslo_middleware]enable_proxy_headers_parsing``):
then the LAST hop, the one that trusted proxy added, is the source.
"""

import collections
import ipaddress
import threading
import time


def source_address(environ, trust_forwarded):
    """The address a request came from, as a string ('' if unknown)."""
    if trust_forwarded:
        forwarded = environ.get('HTTP_X_FORWARDED_FOR')
        if forwarded:
            return _bare(forwarded.split(',')[-1])
        forwarded = environ.get('HTTP_FORWARDED')
        if forwarded:
            hops = [part.split('=', 1)[1] for hop in forwarded.split(',')
                    for part in hop.split(';')
                    if part.strip().lower().startswith('for=')]
            if hops:
                return _bare(hops[-1])
    return _bare(environ.get('REMOTE_ADDR', ''))


def _bare(address):
    """'"[2001:db8::1]:4711"' -> '2001:db8::1'; '192.0.2.1:80' -> ..."""
    address = address.strip().strip('"')
    if address.startswith('['):
        return address[1:].split(']', 1)[0]
    if address.count(':') == 1:
        return address.split(':', 1)[0]
    return address


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
    """At most ``limit`` holders at once; ``enter`` never waits."""

    def __init__(self, limit):
        self._slots = threading.BoundedSemaphore(limit) if limit else None

    def enter(self):
        return self._slots is None or self._slots.acquire(blocking=False)

    def leave(self):
        if self._slots is not None:
            self._slots.release()
