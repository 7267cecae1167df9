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

"""Boot storms against three front-ends of the same cluster, in one run.

(a) the filter in ironic-api with its defaults (the cap and its bounded
wait), and with other waits (``--storm-waits``: what the default is chosen
from); (b) one ``ironic-boot-config-api``; (c) two behind nginx (the
shipped ``etc/balancer`` recipe). Each takes two storms over 1,000 nodes x
2 NICs in ``clean wait``:

* a flood: wrk, 256 connections back to back, 20 s;
* machines: 2,000 requests (each NIC once, the first NIC of every other
  node unknown: 500 requests for no port) at random moments of 30 s, each
  on a connection of its own, as iPXE asks;

and for each the operator's authenticated ``GET /v1/nodes?limit=50`` on
ironic-api, back to back, during the storm and idle just before it, as
long. The boot API processes run at nice 19 (their systemd unit's
``Nice=``, with the kernel's autogroups as here: as its ``CPUWeight=1``):
on a host they share with ironic-api, the operator keeps the CPU first.
The shims (beside the conductors) and the balancer (Debian's nginx) run as
their units run them.
"""

import dataclasses
import threading
import time

import requests

from ironic_boot_config_mw import conf as bc_conf
from tests.harness import load
from tests.harness import net
from tests.harness import nginx as nginx_mod
from tests.harness import recipes
from tests.harness import stats

NICE = 19
UNKNOWN = '52:54:00:ff:%02x:%02x'


def _default(name):
    return str([o for o in bc_conf.boot_config_opts
                if o.name == name][0].default)


#: The filter exactly as shipped, whatever the bench's other rows set.
FILTER_DEFAULTS = {'boot_config': {
    name: _default(name) for name in ('max_concurrent_requests',
                                      'max_concurrent_wait')}}
BEHIND_PROXY = {'oslo_middleware': {'enable_proxy_headers_parsing': 'true'},
                'boot_config': {'trusted_proxies': '127.0.0.1/32'}}


class Operator:
    """``GET /v1/nodes?limit=50``, authenticated, back to back."""

    def __init__(self, api_url, auth):
        self.url = api_url + '/v1/nodes?limit=50'
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers['X-OpenStack-Ironic-API-Version'] = 'latest'

    def sample(self, stop):
        """Latencies (ms) until ``stop`` is set."""
        samples = []
        while not stop.is_set():
            started = time.monotonic()
            resp = self.session.get(self.url, timeout=60)
            if resp.status_code != 200:
                raise RuntimeError('operator: %s' % resp.status_code)
            samples.append((time.monotonic() - started) * 1000)
        return samples

    def idle(self, seconds):
        stop = threading.Event()
        threading.Timer(seconds, stop.set).start()
        return self.sample(stop)


@dataclasses.dataclass
class Storm:
    """What one storm got from one front-end. Latencies in ms."""

    requests: int
    #: The share of the requests for waiting NICs answered 200.
    served: float
    #: {HTTP status, or the error of a request without an answer: count}
    statuses: dict
    socket_errors: int
    timeouts: int
    p50: float
    p99: float


@dataclasses.dataclass
class FrontEndRun:
    """A storm on a front-end, and the operator's p99 idle and during it."""

    target: str
    storm: str
    result: Storm
    idle_p99: float
    during_p99: float
    operator_samples: int

    @property
    def slowdown(self):
        return self.during_p99 / self.idle_p99


def during(operator, storm):
    """Run ``storm()`` while the operator lists nodes: (its result, the
    operator's latencies)."""
    stop, seen = threading.Event(), []
    watcher = threading.Thread(target=lambda: seen.extend(
        operator.sample(stop)))
    watcher.start()
    try:
        result = storm()
    finally:
        stop.set()
        watcher.join(120)
    return result, seen


def flood(url, macs, seconds, connections):
    r = load.run(url, ['/v1/boot/%s/boot.ipxe' % m for m in macs],
                 duration=seconds, connections=connections, timeout_s=10)
    return Storm(requests=r.asked,
                 served=r.statuses.get(200, 0) / max(r.asked, 1),
                 statuses=r.statuses, socket_errors=r.socket_errors,
                 timeouts=r.timeouts, p50=r.p50, p99=r.p99)


def machine_requests(macs):
    """Each NIC once; the first NIC of every other node unknown."""
    paths, waiting = [], set()
    for index in range(len(macs) // 2):
        first, second = macs[2 * index], macs[2 * index + 1]
        if index % 2:
            first = UNKNOWN % (index >> 8 & 0xff, index & 0xff)
        else:
            waiting.add(first)
        waiting.add(second)
        paths += [first, second]
    return paths, waiting


def machines(url, macs, seconds):
    nics, waiting = machine_requests(macs)
    answers = load.machine_storm(url, [['/v1/boot/%s/boot.ipxe' % m]
                                       for m in nics], seconds)
    asked = [a for a in answers if a.path.split('/')[3] in waiting]
    latencies = [a.ms for a in answers]
    return Storm(requests=len(answers),
                 served=sum(a.status == 200 for a in asked) / len(waiting),
                 statuses=stats.tally(a.outcome for a in answers),
                 socket_errors=sum(a.status is None for a in answers),
                 timeouts=sum(a.error == 'TimeoutError' for a in answers),
                 p50=stats.p50(latencies), p99=stats.p99(latencies))


def targets(cluster, waits=(), nice=NICE, boot_api_conf=None):
    """The front-ends, ``[(name, URL)]``: the filter with its defaults and
    with each other ``max_concurrent_wait`` of ``waits``, one boot API
    process, two behind nginx. The cluster stops what this starts."""
    api_url, _api = cluster.start_extra_api('api-defaults', FILTER_DEFAULTS)
    fronts = [('(a) filter in ironic-api, defaults', api_url)]
    for wait in waits:
        if float(wait) == float(_default('max_concurrent_wait')):
            continue
        overrides = {'boot_config': dict(FILTER_DEFAULTS['boot_config'],
                                         max_concurrent_wait=str(wait))}
        url, _proc = cluster.start_extra_api('api-wait-%s' % wait, overrides)
        fronts.append(('(a) filter, max_concurrent_wait = %s s' % wait, url))
    boot_urls = [cluster.start_boot_api(
        'boot-api-%d' % n, dict(BEHIND_PROXY, **(boot_api_conf or {})),
        nice=nice)[0] for n in (1, 2)]
    port = net.free_port()
    cluster.processes.append(nginx_mod.start_servers(
        cluster.workdir, recipes.balancer('nginx-boot-config-api.conf.j2', {
            'boot_config_api_backends': [u[len('http://'):]
                                         for u in boot_urls],
            'boot_config_api_listen': '127.0.0.1:%d' % port}),
        [('127.0.0.1', port)], access_log=False, name='balancer'))
    return api_url, fronts + [
        ('(b) one ironic-boot-config-api', boot_urls[0]),
        ('(c) two ironic-boot-config-api behind nginx',
         'http://127.0.0.1:%d' % port)]


def run(cluster, macs, auth, flood_seconds=20, machine_seconds=30,
        connections=256, waits=(), only='', nice=NICE, boot_api_conf=None):
    """Every :class:`FrontEndRun`. ``macs``: 1,000 nodes' two MACs, in order;
    ``only``: the front-ends' letters (all if empty)."""
    api_url, fronts = targets(cluster, waits, nice, boot_api_conf)
    fronts = [f for f in fronts if not only or f[0][1] in only]
    operator = Operator(api_url, auth)
    storms = [
        ('flood: wrk -c%d, %d s' % (connections, flood_seconds),
         flood_seconds,
         lambda url: flood(url, macs, flood_seconds, connections)),
        ('machines: %d requests over %d s' % (len(macs), machine_seconds),
         machine_seconds, lambda url: machines(url, macs, machine_seconds)),
    ]
    rows = []
    for name, url in fronts:
        for storm_name, seconds, storm in storms:
            idle = operator.idle(seconds)
            result, seen = during(operator, lambda: storm(url))
            row = FrontEndRun(name, storm_name, result, stats.p99(idle),
                              stats.p99(seen), len(seen))
            print('%-46s %-34s %6.1f%% served, errors %d (%d timeouts), '
                  'p50 %.0f p99 %.0f ms, operator p99 %.0f -> %.0f ms '
                  '(%.1fx)' % (
                      name, storm_name, 100 * result.served,
                      result.socket_errors, result.timeouts, result.p50,
                      result.p99, row.idle_p99, row.during_p99,
                      row.slowdown),
                  flush=True)
            rows.append(row)
    return rows


def report(rows):
    """The markdown section of doc/performance-results.md."""
    lines = [
        '## Boot storms', '',
        'Three front-ends of the same cluster, 1,000 nodes x 2 NICs in '
        '`clean wait` (the flood: wrk over their 2,000 MACs; machines: each '
        'NIC once at a random moment, the first NIC of every other node '
        'unknown, one connection per request). "Served": the requests for '
        'waiting NICs answered 200. Operator: authenticated `GET /v1/nodes?'
        'limit=50` on ironic-api, back to back, idle just before the storm '
        'and during it. The boot API processes at nice %d (as their unit\'s '
        'CPUWeight=1), shims and balancer at 0.' % NICE, '',
        '| front-end | storm | requests | served | errors (timeouts) | '
        'p50 ms | p99 ms | operator p99 idle -> during (ms) |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |']
    for row in rows:
        r = row.result
        lines.append('| %s | %s | %d | %.1f %% | %d (%d) | %.0f | %.0f | '
                     '%.0f -> %.0f (%.1fx, %d samples) |' % (
                         row.target, row.storm, r.requests, 100 * r.served,
                         r.socket_errors, r.timeouts, r.p50, r.p99,
                         row.idle_p99, row.during_p99, row.slowdown,
                         row.operator_samples))
    return lines
