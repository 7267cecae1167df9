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

"""Nothing on the boot path goes stale when a node's state or owner changes.

The filter caches nothing of nodes: each request reads the port and node
anew, and the owner comes from Ironic's own hash ring, which Ironic rebuilds
every ``[DEFAULT]hash_ring_reset_interval`` seconds (3 here).
"""

import pytest

from tests.harness import net

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'


@pytest.fixture(scope='module')
def cluster(launch):
    with launch('stale', db='mysql', conductor_hosts=[A, B],
                extra_conf={'DEFAULT': {'hash_ring_reset_interval':
                                        '3'}}) as c:
        yield c


def wait_owner(cluster, uuid, host, timeout=60):
    net.wait_for(lambda: cluster.owner(uuid) == host, timeout,
                 'the ring to give node %s to %s' % (uuid, host),
                 interval=0.5)


def test_a_state_change_is_seen_by_the_next_request(cluster):
    node = cluster.client.waiting_node_on(A)
    assert cluster.client.boot(node.mac).status_code == 200
    cluster.client.move([node], ('abort', 'clean failed'))
    assert cluster.client.boot(node.mac).status_code == 404
    assert 'provision state "clean failed"' in cluster.api_process.log()


def test_an_owner_change_is_followed(cluster):
    node = cluster.client.waiting_node_on(B)
    assert cluster.client.boot(node.mac).content == \
        cluster.written_config(node.uuid, B)

    # B goes away (conductor and shim): the ring moves the node to A, which
    # never wrote its script: A's shim takes the node over (prepares it).
    cluster.conductors[B].process.stop()
    cluster.conductors[B].shim.stop()
    wait_owner(cluster, node.uuid, A)
    served_a = served_within(cluster, node, 15)
    assert served_a == cluster.written_config(node.uuid, A)
    took_over = 'Took over node %s in clean wait' % node.uuid
    assert took_over in cluster.conductors[A].shim.log_once(took_over)

    # B comes back: the node is B's again. B's file is of its former
    # ownership: never served (test_failover.py plants one); B prepares it
    # again and serves that.
    cluster.start_shim(B)
    cluster.restart_conductor(B)
    wait_owner(cluster, node.uuid, B)
    fresh = served_within(cluster, node, 15, not_from=A)
    assert fresh == cluster.written_config(node.uuid, B)
    took_over = 'Took over node %s in clean wait' % node.uuid
    assert took_over in cluster.conductors[B].shim.log_once(took_over)


def served_within(cluster, node, bound, not_from=None):
    """The node's script once the API serves it from its owner (the
    API's ring lags by hash_ring_reset_interval): bounded."""
    def served():
        resp = cluster.client.boot(node.mac)
        if resp.status_code == 200 and (
                not_from is None
                or resp.content != cluster.written_config(node.uuid,
                                                          not_from)):
            return resp.content
        return None

    return net.wait_for(served, bound, "node %s's script" % node.uuid,
                        interval=0.3)
