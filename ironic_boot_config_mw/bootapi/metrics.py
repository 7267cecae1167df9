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

"""``GET /metrics`` of the boot API process: the Prometheus text format.

Counted as the requests end (prometheus_client's counters and histograms,
one registry per application):

* ``ironic_boot_config_requests_total{outcome, cause}``: every /v1/boot
  request, by :mod:`~ironic_boot_config_mw.api.outcomes` (every pair is
  exported from the start, at 0);
* ``ironic_boot_config_request_duration_seconds{outcome}``: the whole path;
* ``ironic_boot_config_rpc_duration_seconds{shim, outcome}``: each call to a
  shim, by the conductor's ring host (``local`` with ``rpc_transport =
  none``);
* ``ironic_boot_config_requests_in_flight``, and
  ``ironic_boot_config_history_records_total{result}`` (``written``,
  ``failed``, ``dropped``).

Read at each scrape: ``ironic_boot_config_threads`` (the server's, the bound
of requests in flight), ``ironic_boot_config_health_database``,
``ironic_boot_config_shim_up{shim}`` and ``ironic_boot_config_shim_circuit
{shim, state}`` (1 for the current of ``closed``, ``open``, ``suspect``),
for the shims of the online conductors. Labels are bounded: outcomes and
causes are fixed sets, shims are the conductors; never a MAC nor a node.
With ``[boot_config]health_shims = False`` the conductors' hosts stay
hidden here too: the per-shim series are summed (``shim=""``,
``ironic_boot_config_shims{state}``).
"""

import prometheus_client
from prometheus_client import core

from ironic_boot_config_mw.api import outcomes

PREFIX = 'ironic_boot_config_'
#: Seconds: a served request takes milliseconds; a timed-out call to a shim
#: takes ``rpc_timeout`` (10 s by default).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
           2.5, 5.0, 10.0, 30.0)
CIRCUIT_STATES = ('closed', 'open', 'suspect')


class Metrics(outcomes.Observer):
    """The boot API process's metrics, and the WSGI app of ``/metrics``.

    :param threads: the server's threads.
    :param shims: whether series name the shims' hosts.
    """

    def __init__(self, threads, shims=True):
        self.threads = threads
        self.shims = shims
        self.registry = prometheus_client.CollectorRegistry()
        self.requests = prometheus_client.Counter(
            PREFIX + 'requests', '/v1/boot requests by outcome and cause.',
            ['outcome', 'cause'], registry=self.registry)
        self.duration = prometheus_client.Histogram(
            PREFIX + 'request_duration_seconds',
            'Seconds a /v1/boot request took, admission to answer.',
            ['outcome'], buckets=BUCKETS, registry=self.registry)
        self.rpc_duration = prometheus_client.Histogram(
            PREFIX + 'rpc_duration_seconds',
            'Seconds a call to a conductor\'s shim took.',
            ['shim', 'outcome'], buckets=BUCKETS, registry=self.registry)
        self.in_flight = prometheus_client.Gauge(
            PREFIX + 'requests_in_flight',
            '/v1/boot requests being served now.', registry=self.registry)
        for outcome, causes in outcomes.CAUSES.items():
            self.duration.labels(outcome)
            for cause in causes:
                self.requests.labels(outcome, cause)
        prometheus_client.ProcessCollector(registry=self.registry)
        prometheus_client.PlatformCollector(registry=self.registry)

    def watch(self, health, circuit, history):
        """Read at each scrape: ``health`` (the process's :class:`~ironic_
        boot_config_mw.bootapi.health.Health`), the RPC client's ``circuit``
        (or None) and the filter's served ``history`` (or None)."""
        self.registry.register(_State(health, circuit, self.threads,
                                      self.shims, history))

    def request(self, outcome, cause, seconds):
        self.requests.labels(outcome, cause).inc()
        self.duration.labels(outcome).observe(seconds)

    def rpc(self, host, outcome, seconds):
        self.rpc_duration.labels(host if self.shims else '',
                                 outcome).observe(seconds)

    def __call__(self, environ, start_response):
        body = prometheus_client.generate_latest(self.registry)
        start_response('200 OK', [
            ('Content-Type', prometheus_client.CONTENT_TYPE_LATEST),
            ('Content-Length', str(len(body))),
            ('Cache-Control', 'no-store')])
        return [b''] if environ.get('REQUEST_METHOD') == 'HEAD' else [body]


class _State:
    """What is read at each scrape rather than counted."""

    def __init__(self, health, circuit, threads, shims, history):
        self.health = health
        self.circuit = circuit
        self.threads = threads
        self.shims = shims
        self.history = history

    def describe(self):
        return []  # collected at scrape time only

    def collect(self):
        yield core.GaugeMetricFamily(
            PREFIX + 'threads', 'Server threads: /v1/boot requests served '
            'at once at most.', value=self.threads)
        answer = self.health.latest()
        shims = dict.fromkeys(answer['shims'])
        yield core.GaugeMetricFamily(
            PREFIX + 'health_database', '1 if the database answers '
            '(the /health status).', value=int(answer['database']))
        states = self.circuit.states() if self.circuit is not None else {}
        for host in shims:
            shims[host] = (answer['shims'][host],
                           states.get(host, 'closed'))
        if self.shims:
            up = core.GaugeMetricFamily(
                PREFIX + 'shim_up', '1 if the shim of the conductor answers '
                'its ping.', labels=['shim'])
            circuit = core.GaugeMetricFamily(
                PREFIX + 'shim_circuit', '1 for the state of the circuit of '
                'the conductor\'s shim.', labels=['shim', 'state'])
            for host, (answers, state) in sorted(shims.items()):
                up.add_metric([host], int(answers))
                for each in CIRCUIT_STATES:
                    circuit.add_metric([host, each], int(each == state))
            yield up
            yield circuit
        counts = core.GaugeMetricFamily(
            PREFIX + 'shims', 'Shims of the online conductors by the state '
            'of their circuit, and those that answer their ping (up).',
            labels=['state'])
        for each in CIRCUIT_STATES:
            counts.add_metric([each], sum(state == each for _, state
                                          in shims.values()))
        counts.add_metric(['up'], sum(up for up, _ in shims.values()))
        yield counts
        if self.history is not None:
            records = core.CounterMetricFamily(
                PREFIX + 'history_records', 'Node history records of served '
                'configurations, by result.', labels=['result'])
            for result in ('written', 'failed', 'dropped'):
                records.add_metric([result], getattr(self.history, result))
            yield records
