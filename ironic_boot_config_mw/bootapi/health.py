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

"""``GET /health`` of the boot API: can this process serve? For probes.

For Kubernetes, systemd and balancers: no authentication and no node data.
It says whether the database answers (``SELECT 1``) and which conductors'
shims answer a ping, by the conductor's host as ``GET /v1/conductors``
lists it: ``{"database": true, "shims": {"conductor-1": true, ...}}``.
With ``[boot_config]health_shims = False`` the body is only
``{"database": true}``: the conductors' hosts stay hidden from anyone who
can reach the port.

200 when the database answers, else 503: a shim that is down fails its own
nodes in every boot API process alike, so a balancer gains nothing by
dropping this one.

A request never waits for a check: it answers at once from the latest
results, in well under a second (a probe's timeout; Kubernetes' is 1 s).
The checks run in the background, in a daemon thread that the first
request starts (not the import nor the application: a forking server's
workers each start their own, and a child forked after it started starts
its own again). Every ``ttl`` (1 s) it starts a round: the database's
``SELECT 1``, the list of online conductors, a ping of each one's shim,
each in a thread pool of its own kind. A check still running from an
earlier round is not started again (a hung shim's ping: one at a time per
shim, so they never pile up), and no check waits for another: a hung ping
delays neither the database's check nor the other shims'. Each ends by its
own bound (the RPC client's ``[boot_config]rpc_timeout`` for a ping), and
what a request is told is bounded too:

* the database answers if its latest finished check succeeded and its
  latest success is at most ``rpc_timeout + 2 * ttl`` old (12 s by
  default): a check that fails says so at the next round, one that hangs
  when that time has passed;
* a shim answers if its latest finished ping succeeded within
  ``ping_bound`` (``min(rpc_timeout, 2 * ttl)``: 2 s) and the ping running
  now, if any, has not run longer than that. A shim never pinged yet, or
  whose ping has not answered yet, is false;
* the shims are those of the latest conductor list read.

The very first request waits for the first round at most ``first_wait``
(0.5 s), then answers with what is known. Transitions between healthy (the
database and every shim answer) and not are logged, by the background
thread.
"""

import concurrent.futures
import os
import threading
import time
import weakref

from ironic.common import context as ironic_context
from oslo_log import log

from ironic_boot_config_mw.api import explain

LOG = log.getLogger(__name__)

DATABASE, CONDUCTORS, SHIM = 'database', 'conductors', 'shim'
#: Threads for shims' pings: one per shim at most (a hung one keeps its
#: thread until the RPC client's timeout).
SHIM_THREADS = 32

#: Every checker of this process: a forked child resets them.
_ALL = weakref.WeakSet()


class Health:
    """Checks the database and the shims in the background; answers
    ``/health`` from the latest results.

    :param find_node: the lookup (its ``ping()`` raises unless the database
        answers).
    :param client: the RPC client (``conductors()``, ``ping()``).
    :param timeout: ``[boot_config]rpc_timeout``: the bound of a check.
    :param ttl: seconds between rounds of checks.
    :param shims: whether the answer lists the shims
        (``[boot_config]health_shims``).
    :param first_wait: seconds the first request waits for the first round.
    :param ping_bound: seconds a ping may take and its shim still count as
        answering; default ``min(timeout, 2 * ttl)``.
    """

    def __init__(self, find_node, client, timeout, ttl=1.0, shims=True,
                 first_wait=0.5, ping_bound=None):
        self.find_node = find_node
        self.client = client
        self.timeout = timeout
        self.ttl = ttl
        self.shims = shims
        self.first_wait = first_wait
        self.stale = timeout + 2 * ttl
        self.ping_bound = (min(timeout, 2 * ttl) if ping_bound is None
                           else ping_bound)
        self._database_ok_at = None  # when its latest success finished
        self._database_failed = False  # its latest finished check
        self._hosts = []
        self._pings = {}  # host -> its latest finished ping answered
        self._was_healthy = None
        self._reset()
        _ALL.add(self)

    def _reset(self):
        """No thread, nothing running: at first, and in a forked child
        (where the parent's threads, their futures and locks are gone)."""
        self._lock = threading.Lock()
        self._thread = None
        self._started_at = None
        self._pools = None
        self._running = {}  # check -> (its future, started at), while it runs
        self._first_round = threading.Event()
        self._stopping = threading.Event()

    def __call__(self, environ, start_response):
        answer = self.check()
        status = '200 OK' if answer['database'] else \
            '503 Service Unavailable'
        body = explain.json_reply(start_response, status, answer)
        return [b''] if environ.get('REQUEST_METHOD') == 'HEAD' else body

    def check(self):
        """The answer: ``{'database': bool, 'shims': {host: bool}}``
        (without ``shims`` unless :attr:`shims`), from the latest results."""
        answer = self.latest()
        if not self.shims:
            del answer['shims']
        return answer

    def latest(self):
        """:meth:`answer`, once the checks run. Waits only at first: until
        ``first_wait`` after the thread's start at most."""
        self._start()
        started_at = self._started_at
        if started_at is not None and not self._first_round.is_set():
            self._first_round.wait(max(
                0.0, started_at + self.first_wait - time.monotonic()))
        return self.answer()

    def answer(self, now=None):
        """What the latest results say (see the module's docstring)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            database = (not self._database_failed
                        and self._database_ok_at is not None
                        and now - self._database_ok_at <= self.stale)
            shims = {}
            for host in self._hosts:
                running = self._running.get((SHIM, host))
                late = running is not None and \
                    now - running[1] > self.ping_bound
                shims[host] = self._pings.get(host, False) and not late
        return {'database': database, 'shims': shims}

    def stop(self, wait=5.0):
        """End the background checks (the thread is a daemon: a process
        need not call this)."""
        self._stopping.set()
        thread, pools = self._thread, self._pools
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)
        for pool in (pools or {}).values():
            pool.shutdown(wait=False, cancel_futures=True)

    @property
    def started(self):
        """Whether the background thread was started (in this process)."""
        return self._thread is not None

    def _start(self):
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is not None or self._stopping.is_set():
                return
            self._pools = {
                DATABASE: concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix='health-database'),
                CONDUCTORS: concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix='health-conductors'),
                SHIM: concurrent.futures.ThreadPoolExecutor(
                    SHIM_THREADS, thread_name_prefix='health-shim')}
            thread = threading.Thread(
                target=_loop, args=(weakref.ref(self), self._stopping),
                name='health', daemon=True)
            self._started_at = time.monotonic()
            thread.start()
            self._thread = thread

    def _round(self):
        """Start the checks not still running; wait for them until the
        next round at most; log a transition."""
        started = time.monotonic()
        context = ironic_context.get_admin_context()
        futures = [self._submit(DATABASE, self.find_node.ping)]
        conductors = self._submit(CONDUCTORS, self.client.conductors)
        futures.append(conductors)
        # The list of this round if it comes soon, else the latest one.
        concurrent.futures.wait([conductors], self.ttl / 2)
        with self._lock:
            hosts = list(self._hosts)
        futures += [self._submit((SHIM, host), self.client.ping, context,
                                 host) for host in hosts]
        concurrent.futures.wait(
            futures, max(0.0, started + self.ttl - time.monotonic()))
        self._log(self.answer())

    def _submit(self, check, call, *args):
        """``call(*args)`` in its pool, unless ``check`` still runs from an
        earlier round: then that one's future."""
        with self._lock:
            running = self._running.get(check)
            if running is not None:
                return running[0]
            if self._pools is None:  # stopped, or forked meanwhile
                raise RuntimeError('health checks stopped')
            started = time.monotonic()
            kind = check if isinstance(check, str) else check[0]
            future = self._pools[kind].submit(call, *args)
            self._running[check] = (future, started)
        # Outside the lock: a future done already calls back at once.
        future.add_done_callback(
            lambda done: self._finished(check, done, started))
        return future

    def _finished(self, check, future, started):
        now = time.monotonic()
        if future.cancelled():
            error = 'cancelled'
        else:
            error = future.exception()
        if error is not None:
            LOG.debug('Health: check %s failed: %s', check, error)
        with self._lock:
            if self._running.get(check, (None,))[0] is future:
                del self._running[check]
            if check == DATABASE:
                self._database_failed = error is not None
                if error is None:
                    self._database_ok_at = now
            elif check == CONDUCTORS:
                if error is None:
                    self._hosts = sorted(future.result())
                    self._pings = {host: up for host, up
                                   in self._pings.items()
                                   if host in self._hosts}
            elif check[1] in self._hosts:
                self._pings[check[1]] = (error is None and
                                         now - started <= self.ping_bound)

    def _log(self, answer):
        healthy = answer['database'] and all(answer['shims'].values())
        if healthy != self._was_healthy:
            (LOG.info if healthy else LOG.warning)(
                'Health: database %s; shims %s',
                'answers' if answer['database'] else 'does not answer',
                ', '.join('%s %s' % (host, 'up' if up else 'DOWN')
                          for host, up in sorted(answer['shims'].items()))
                or 'none online')
            self._was_healthy = healthy


def _loop(ref, stopping):
    """A round every ``ttl`` while the checker lives and is not stopped."""
    while not stopping.is_set():
        health = ref()
        if health is None:
            return
        started = time.monotonic()
        try:
            health._round()
        except Exception:
            if stopping.is_set():
                return
            LOG.exception('Health: a round of checks failed')
        finally:
            health._first_round.set()
        pause = max(0.01, health.ttl - (time.monotonic() - started))
        del health  # a checker no longer used ends its thread
        stopping.wait(pause)


def _after_fork_in_child():
    for health in list(_ALL):
        health._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
