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

"""A circuit per shim: calls to a shim that failed or hangs fail at once.

Without it, every request for a node whose shim is unreachable holds a slot
of ``[boot_config]max_concurrent_requests`` (and a server thread) for up to
``rpc_timeout``: a handful of machines of one dead conductor starve the
machines of every other conductor and slow Ironic's own API.

Per ring host (the conductor's entry on Ironic's hash ring):

* **closed**: calls go through. A transport failure
  (:func:`is_transport_failure`) opens it. The shim answering anything,
  its "nothing to serve" (Ironic's NotFound) or an error included, keeps
  or makes it closed.
* **open**: calls fail at once with
  :class:`~ironic_boot_config_mw.exception.ShimUnavailable`. After
  ``retry_interval`` seconds exactly one call goes through as a trial
  (half-open) while the others keep failing; its success closes the
  circuit, its failure opens it for another ``retry_interval``.
* **suspect**: a hung shim (SIGSTOPped, or its host's kernel still
  accepting connections) fails only by a read timeout. It is *quiet*: it
  answered nothing since its oldest pending call started. While a quiet
  host's oldest call has been pending longer than ``connect_timeout`` (a
  shim answers in milliseconds), new calls to it fail at once; a call that
  starts beside a quiet host's pending one may wait half of
  ``connect_timeout`` at most (:attr:`Call.timeout`), and once one such
  call timed out, new calls fail at once until the pending one ends. A
  busy shim answers other calls meanwhile: its calls keep the whole
  ``rpc_timeout`` (measured: with the short wait for every call beside
  another, a flood through two boot API processes got the 404 for calls
  that took 0.5 s while the shim answered hundreds). A hung shim so holds one
  thread for at most the RPC timeout, and another once for at most half a
  ``connect_timeout``: less than a request waits for a slot of the cap
  (``max_concurrent_wait``, 1 s by default), so the requests queued behind
  them are still served.

The table holds only hosts with pending calls or an open circuit: at most
the ring's conductors. Transitions are logged once (WARNING when a circuit
opens, INFO when it closes), never per request.
"""

import datetime
import http.client
import threading
import time

from keystoneauth1 import exceptions as ksa_exceptions
from oslo_log import log
import oslo_messaging as messaging

from ironic_boot_config_mw import exception

LOG = log.getLogger(__name__)


def is_transport_failure(exc):
    """Whether ``exc`` says the shim could not be reached or did not answer
    in time, rather than the shim's own answer."""
    if isinstance(exc, messaging.RemoteError):
        return False  # oslo.messaging: the shim answered with an error
    return isinstance(exc, (OSError, http.client.HTTPException,
                            messaging.MessagingException,
                            # Ironic's own JSON-RPC client (keystone auth).
                            ksa_exceptions.ConnectionError))


class Call:
    """A call let through: ``timeout`` is the most it may wait for the
    answer (seconds), None for the transport's own (``rpc_timeout``)."""

    __slots__ = ('host', 'started', 'timeout', 'trial')

    def __init__(self, host, started, timeout, trial):
        self.host = host
        self.started = started
        self.timeout = timeout
        self.trial = trial


class _Shim:
    __slots__ = ('pending', 'answered', 'opened', 'since', 'retry_at',
                 'trial', 'refused', 'suspect', 'cut_short')

    def __init__(self):
        self.pending = {}       # Call -> when it started (monotonic)
        self.answered = 0.0     # when a call last ended answered
        self.opened = None      # monotonic time it opened; None: closed
        self.since = None       # the same, for people (wall clock)
        self.retry_at = 0.0
        self.trial = None       # the Call of the half-open trial, if any
        self.refused = 0        # calls failed at once since it opened
        self.suspect = False    # the suspect WARNING was said
        self.cut_short = False  # a call beside a pending one timed out


class Circuit:
    """The circuits of the shims of every ring host, thread-safe.

    :param connect_timeout: ``[boot_config]rpc_connect_timeout``: how long
        a call may be pending before the host is suspect.
    :param retry_interval: ``[boot_config]shim_retry_interval``: seconds
        between trial calls of an open circuit.
    """

    def __init__(self, connect_timeout, retry_interval, clock=time.monotonic):
        self.connect_timeout = connect_timeout
        self.retry_interval = retry_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._shims = {}

    def enter(self, host):
        """Let a call to ``host`` through: its :class:`Call`.

        :raises: ShimUnavailable while the circuit is open (and not due for
            a trial), or while the host is suspect.
        """
        now = self._clock()
        with self._lock:
            shim = self._shims.get(host)
            if shim is None:
                shim = self._shims[host] = _Shim()
            trial = False
            if shim.opened is not None:
                if shim.trial is not None or now < shim.retry_at:
                    shim.refused += 1
                    raise self._unavailable(host, shim.since,
                                            'its last call failed')
                trial = True
            oldest, quiet = _oldest(shim)
            if shim.opened is None and quiet:
                if self._suspect(shim, now):
                    shim.refused += 1
                    if not shim.suspect:
                        # Once per hang, not per request of a flood.
                        shim.suspect = True
                        LOG.warning('The shim of conductor %(host)s has not '
                                    'answered a call for %(age).1f s: its '
                                    'other calls fail at once until it '
                                    'answers', {'host': host,
                                                'age': now - oldest})
                    raise self._unavailable(
                        host, _wall(now - oldest),
                        'a call has been pending for %.1f s' % (now - oldest))
            # Beside a pending call: the pending one finds out whether the
            # shim hangs; this one must not hold its slot that long too
            # (measured: with the whole connect_timeout, the requests that
            # waited for a slot at that moment got the 404).
            call = Call(host, now, self.connect_timeout / 2
                        if quiet and not trial else None, trial)
            shim.pending[call] = now
            if trial:
                shim.trial = call
            return call

    def leave(self, call, error=None):
        """The call ended: answered (``error`` None, or what the shim's
        answer raised) or failed (``error``, a transport failure)."""
        failed = error is not None and is_transport_failure(error)
        with self._lock:
            shim = self._shims[call.host]
            del shim.pending[call]
            if shim.trial is call:
                shim.trial = None
            if not shim.pending:
                shim.suspect = shim.cut_short = False
            if not failed:
                shim.cut_short = False
                shim.answered = self._clock()
                self._close(call.host, shim)
            elif call.timeout is not None and isinstance(
                    error, (TimeoutError, messaging.MessagingTimeout)):
                # Cut short beside another pending call: that one decides
                # whether the circuit opens; until it ends the shim is
                # suspect (no chain of short calls holding a slot).
                shim.cut_short = bool(shim.pending)
            else:
                now = self._clock()
                shim.retry_at = now + self.retry_interval
                if shim.opened is None:
                    shim.opened, shim.since = now, _wall(0)
                    shim.refused = 0
                    LOG.warning('The shim of conductor %(host)s failed '
                                '(%(kind)s: %(error)s): its calls fail at '
                                'once, one trial every %(retry)s s',
                                {'host': call.host,
                                 'kind': type(error).__name__,
                                 'error': error,
                                 'retry': self.retry_interval})
            if not shim.pending and shim.opened is None:
                del self._shims[call.host]

    def answered(self, host):
        """The shim on ``host`` answered something else (a ping): close."""
        with self._lock:
            shim = self._shims.get(host)
            if shim is not None:
                self._close(host, shim)
                if not shim.pending:
                    del self._shims[host]

    def call(self, host, function, *args, **kwargs):
        """``function(*args, read_timeout=..., **kwargs)`` through the
        circuit of ``host``."""
        call = self.enter(host)
        try:
            result = function(*args, read_timeout=call.timeout, **kwargs)
        except BaseException as exc:
            self.leave(call, exc)
            raise
        self.leave(call)
        return result

    def states(self):
        """``{host: 'open' | 'suspect'}`` of every host whose calls fail at
        once now; any other host's circuit is closed."""
        now = self._clock()
        with self._lock:
            return {host: 'open' if shim.opened is not None else 'suspect'
                    for host, shim in self._shims.items()
                    if shim.opened is not None or self._suspect(shim, now)}

    def _suspect(self, shim, now):
        """Whether a host with a closed circuit hangs (see the module)."""
        oldest, quiet = _oldest(shim)
        return quiet and (now - oldest > self.connect_timeout
                          or shim.cut_short)

    def is_open(self, host):
        with self._lock:
            shim = self._shims.get(host)
            return shim is not None and shim.opened is not None

    def _close(self, host, shim):
        if shim.opened is None:
            return
        LOG.info('The shim of conductor %(host)s answers again, after '
                 '%(down).1f s; %(refused)d call(s) failed at once',
                 {'host': host, 'down': self._clock() - shim.opened,
                  'refused': shim.refused})
        shim.opened = shim.since = None
        shim.refused = 0

    @staticmethod
    def _unavailable(host, since, reason):
        return exception.ShimUnavailable(
            host=host, since=since.strftime('%H:%M:%S.%f')[:-3],
            reason=reason)


def _oldest(shim):
    """When its oldest pending call started, and whether it is quiet (has
    answered nothing since)."""
    oldest = min(shim.pending.values(), default=None)
    return oldest, oldest is not None and shim.answered < oldest


def _wall(seconds_ago):
    return datetime.datetime.now() - datetime.timedelta(seconds=seconds_ago)
