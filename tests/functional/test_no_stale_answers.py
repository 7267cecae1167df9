"""Nothing on the boot path goes stale when a node's state or owner changes.

The filter caches nothing of nodes: each request reads the port and node
anew, and the owner comes from Ironic's own hash ring, which Ironic rebuilds
every ``[DEFAULT]hash_ring_reset_interval`` seconds (3 here).
"""

import time

import pytest

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'


@pytest.fixture(scope='module')
def cluster(launch):
    with launch('stale', db='mysql', conductor_hosts=[A, B],
                extra_conf={'DEFAULT': {'hash_ring_reset_interval':
                                        '3'}}) as c:
        yield c


def wait_owner(cluster, uuid, host, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and cluster.owner(uuid) != host:
        time.sleep(0.5)
    assert cluster.owner(uuid) == host


def test_a_state_change_is_seen_by_the_next_request(cluster):
    node = cluster.client.create_node_on(A)
    cluster.client.to_clean_wait([node])
    assert cluster.client.boot(node.mac).status_code == 200
    cluster.client.move([node], ('abort', 'clean failed'))
    assert cluster.client.boot(node.mac).status_code == 404
    assert 'provision state "clean failed"' in cluster.api_process.log()


def test_an_owner_change_is_followed(cluster):
    node = cluster.client.create_node_on(B)
    cluster.client.to_clean_wait([node])
    assert cluster.client.boot(node.mac).content == \
        cluster.written_config(node.uuid, B)

    # B goes away (conductor and shim): the ring moves the node to A, which
    # never wrote its script. The API asks A: the generic 404, A's reason.
    cluster.conductors[B].process.stop()
    cluster.conductors[B].shim.stop()
    wait_owner(cluster, node.uuid, A)
    time.sleep(4)  # the API's own ring: hash_ring_reset_interval
    assert cluster.client.boot(node.mac).status_code == 404
    shim_a = cluster.conductors[A].shim.log()
    assert 'node %s: not found' % node.uuid in shim_a
    assert 'does not exist' in shim_a

    # B comes back: the node is B's again, and so is the answer.
    cluster.start_shim(B)
    cluster.restart_conductor(B)
    wait_owner(cluster, node.uuid, B)
    time.sleep(4)
    assert cluster.client.boot(node.mac).content == \
        cluster.written_config(node.uuid, B)
