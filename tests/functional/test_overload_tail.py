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

"""The overload tail of the boot API process: 256 connections back to back.

Bifrost's shape: the all-in-one ``ironic`` (``rpc_transport = none``,
MariaDB) and ``ironic-boot-config-api`` beside it on the same
configuration, the providers in it; 20 nodes in ``clean wait``. wrk with
256 connections for SECONDS, RUNS times: in every run every request is
answered 200 within 10 s (wrk's ``--timeout 10s``: none timed out, no socket
error).
"""

import pytest

from tests.harness import bulk
from tests.harness import load
from tests.harness import services

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'
NODES = 20
RUNS = 10
SECONDS = 10
CONNECTIONS = 256
TIMEOUT = 10


@pytest.fixture(scope='module')
def cluster(launch):
    services.require_program('wrk')
    with launch('overload', db='mysql', conductor_hosts=[HOST],
                all_in_one=True, rpc_transport='none') as c:
        yield c


@pytest.fixture(scope='module')
def boot_api(cluster):
    """The boot API's URL and the first MAC of each of NODES nodes: a real
    one, the others written into the tables with its script (after the
    process started: nodes waiting at its start it would prepare again)."""
    real = cluster.client.create_node()
    cluster.client.to_clean_wait([real])
    url, _proc = cluster.start_boot_api('boot-api', conductor=HOST)
    more = bulk.BulkNodes.like(cluster, real.uuid)
    more.grow(NODES - 1)
    return url, [real.mac] + more.macs[::2]


def test_no_request_waits_past_10_s(boot_api):
    url, macs = boot_api
    paths = ['/v1/boot/%s/boot.ipxe' % mac for mac in macs]
    runs = []
    for _ in range(RUNS):
        result = load.run(url, paths, duration=SECONDS,
                          connections=CONNECTIONS, timeout_s=TIMEOUT)
        runs.append(result)
        print(result.summary())
    for result in runs:
        assert result.socket_errors == 0, result.raw
        assert set(result.statuses) == {200}, result.statuses
        assert result.max < TIMEOUT * 1000
