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

"""Boot storms on real processes: 500 nodes x 2 NICs in ``clean wait``.

A flood: 128 clients on loopback sending back to back for 20 s (wrk): no
5xx and no hang (no wrk timeout), whatever the load.

A storm of machines: 8 clients, each asking then pausing 100 ms, over all
1,000 MACs for 20 s, while an operator lists nodes a page at a time
(authenticated ``GET /v1/nodes?limit=50``, back to back: some hundreds of
samples, so that p99 is not just the slowest one). The operator's p99 stays
within twice its idle p99, measured the same way over the same 20 s without
the storm (Ironic's periodic work happens in both windows): the concurrency
cap keeps the storm to 2 requests at a time, the others waiting for a slot
(``max_concurrent_wait``) instead of taking the server's CPU.

Why 8 clients: Ironic runs its API server (cheroot) with cheroot's
defaults, a listen backlog of 5 and at most 10 idle keep-alive connections.
Beyond 10 clients cheroot closes connections, clients reconnect, SYNs
overflow the backlog and are retransmitted after 1 s, 3 s, ... For every
route alike, before any WSGI code runs: the flood test prints what the
operator saw then. For floods, deployments run the boot API process of
its own (``test_boot_api.py``); see the operations guide.
"""

import threading
import time

import pytest

from tests.harness import bulk
from tests.harness import load
from tests.harness import services
from tests.harness import stats

pytestmark = pytest.mark.slow

NODES = 500
SECONDS = 20


@pytest.fixture(scope='module')
def cluster(launch):
    services.require_program('wrk')
    with launch('storm', db='mysql', auth_strategy='http_basic') as c:
        yield c


@pytest.fixture(scope='module')
def macs(cluster):
    """The MACs of NODES nodes in ``clean wait``, 2 NICs each."""
    real = cluster.client.create_node()
    cluster.client.to_clean_wait([real])
    nodes = bulk.BulkNodes.like(cluster, real.uuid)
    nodes.grow(NODES)
    return nodes.macs


def list_nodes(c):
    started = time.monotonic()
    resp = c.client.get('/v1/nodes?limit=50')
    assert resp.status_code == 200
    return time.monotonic() - started


def storm(cluster, macs, think_ms, connections):
    """Boot requests over all MACs for 20 s while the operator lists nodes:
    (wrk's result, the operator's latencies)."""
    during, stop = [], threading.Event()

    def operator():
        while not stop.is_set():
            during.append(list_nodes(cluster))

    watcher = threading.Thread(target=operator)
    watcher.start()
    try:
        result = load.run(cluster.api_url,
                          ['/v1/boot/%s/boot.ipxe' % m for m in macs],
                          duration=SECONDS, connections=connections,
                          timeout_s=15, think_ms=think_ms)
    finally:
        stop.set()
        watcher.join(60)
    print('\nstorm (%d clients, %d ms pauses): %.0f req/s, %s' % (
        connections, think_ms, result.rps, result.summary()))
    print('operator GET /v1/nodes?limit=50 during it: p50 %.0f p99 %.0f ms '
          '(%d samples)' % (stats.p50(during) * 1e3,
                            stats.p99(during) * 1e3, len(during)))
    return result, during


def check_robust(result):
    statuses = result.statuses
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 404}
    assert result.socket_errors == 0


def takeover_lines(cluster):
    """What each shim's takeover said: why its nodes might be refused."""
    return [line for c in cluster.conductors.values()
            for line in c.shim.log().splitlines()
            if 'Hash ring' in line or 'Takeover of node' in line][:20]


def test_flood_no_5xx_no_hang(cluster, macs):
    result, _during = storm(cluster, macs, think_ms=0, connections=128)
    check_robust(result)
    assert result.statuses.get(200, 0) > 500, takeover_lines(cluster)


def test_storm_of_machines_spares_the_operator(cluster, macs):
    idle, deadline = [], time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        idle.append(list_nodes(cluster))
    print('\noperator GET /v1/nodes?limit=50 idle: p50 %.0f p99 %.0f ms '
          '(%d samples)' % (stats.p50(idle) * 1e3, stats.p99(idle) * 1e3,
                            len(idle)))
    result, during = storm(cluster, macs, think_ms=100, connections=8)
    check_robust(result)
    assert result.statuses.get(200, 0) > 500, takeover_lines(cluster)
    assert len(during) >= 100
    assert stats.p99(during) < 2 * stats.p99(idle)
