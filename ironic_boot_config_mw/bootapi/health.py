"""``GET /health`` of the boot API: can this process serve? For probes.

For Kubernetes, systemd and balancers: no authentication and no node data.
It says whether the database answers (``SELECT 1``) and which conductors'
shims answer a ping, by the conductor's host as ``GET /v1/conductors``
lists it: ``{"database": true, "shims": {"conductor-1": true, ...}}``.

200 when the database answers, else 503: a shim that is down fails its own
nodes in every boot API process alike, so a balancer gains nothing by
dropping this one. Every check is bounded by ``[boot_config]rpc_timeout``,
and an answer is kept for a second, so that a probe flood is not a flood of
queries and pings.
"""

import concurrent.futures
import threading
import time

from ironic.common import context as ironic_context
from oslo_log import log

from ironic_boot_config_mw.api import explain

LOG = log.getLogger(__name__)


class Health:
    """Checks the database and the shims; answers ``/health``.

    :param find_node: the lookup (its ``ping()`` raises unless the database
        answers).
    :param client: the RPC client (``conductors()``, ``ping()``).
    :param timeout: seconds the whole check may take.
    :param ttl: seconds an answer is reused.
    """

    def __init__(self, find_node, client, timeout, ttl=1.0):
        self.find_node = find_node
        self.client = client
        self.timeout = timeout
        self.ttl = ttl
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=8, thread_name_prefix='health')
        self._lock = threading.Lock()
        self._answer, self._stamp = None, None
        self._was_healthy = None
        self._running = {}  # check -> its future, while it runs

    def __call__(self, environ, start_response):
        answer = self.check()
        status = '200 OK' if answer['database'] else \
            '503 Service Unavailable'
        body = explain.json_reply(start_response, status, answer)
        return [b''] if environ.get('REQUEST_METHOD') == 'HEAD' else body

    def check(self):
        """``{'database': bool, 'shims': {host: bool}}``, at most ``ttl``
        seconds old."""
        with self._lock:
            now = time.monotonic()
            if self._stamp is None or now - self._stamp >= self.ttl:
                self._answer = self._check()
                self._stamp = time.monotonic()
                self._log(self._answer)
            return self._answer

    def _check(self):
        deadline = time.monotonic() + self.timeout
        context = ironic_context.get_admin_context()
        database = self._submit('database', self.find_node.ping)
        hosts = self._submit('conductors', self.client.conductors)
        pings = {host: self._submit(('shim', host), self.client.ping,
                                    context, host)
                 for host in _result(hosts, deadline, [])}
        return {'database': _result(database, deadline, False) is None,
                'shims': {host: _result(ping, deadline, False) is not False
                          for host, ping in pings.items()}}

    def _submit(self, check, call, *args):
        """``call(*args)`` in the pool, unless ``check`` still runs from an
        earlier probe (a hung shim's ping): then that one's future. Else
        probes faster than a hung ping would fill the pool, and the
        database's check would wait behind them."""
        future = self._running.get(check)
        if future is None or future.done():
            future = self._running[check] = self._pool.submit(call, *args)
        return future

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


def _result(future, deadline, failed):
    """The future's result by ``deadline``, else ``failed``."""
    try:
        return future.result(max(0.0, deadline - time.monotonic()))
    except Exception:
        return failed
