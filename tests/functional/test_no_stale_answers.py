"""Nothing on the boot path goes stale when a node's state or owner changes.

The filter caches nothing of nodes: each request reads the port and node
anew, and the owner comes from Ironic's own hash ring, which Ironic rebuilds
every ``[DEFAULT]hash_ring_reset_interval`` seconds (3 here).
"""

import time

import pytest

from tests import services
from tests.functional import cluster as cluster_mod

pytestmark = pytest.mark.slow

A, B = '127.0.0.2', '127.0.0.3'


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    services.require('mariadb')
    c = cluster_mod.IronicCluster(
        str(tmp_path_factory.mktemp('stale')), db='mysql',
        conductor_hosts=[A, B],
        extra_conf={'DEFAULT': {'hash_ring_reset_interval': '3'}})
    try:
        c.start()
        yield c
    finally:
        c.stop()


def mac(n):
    return '52:54:00:70:00:%02x' % n


def test_a_state_change_is_seen_by_the_next_request(cluster):
    uuid, m = cluster.create_node_on(A, map(mac, range(0, 20)))
    cluster.to_clean_wait([uuid])
    assert cluster.boot(m).status_code == 200
    cluster.set_provision_state(uuid, 'abort')
    cluster.wait_provision_state([uuid], 'clean failed')
    assert cluster.boot(m).status_code == 404
    assert 'provision state "clean failed"' in cluster.api.log()


def test_an_owner_change_is_followed(cluster):
    uuid, m = cluster.create_node_on(B, map(mac, range(20, 40)))
    cluster.to_clean_wait([uuid])
    assert cluster.boot(m).content == cluster.written_config(uuid, B)

    # B goes away (conductor and shim): the ring moves the node to A, which
    # never wrote its script. The API asks A: the generic 404, A's reason.
    cluster.conductors[B]['process'].stop()
    cluster.conductors[B]['shim'].stop()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if cluster.owner(uuid) == A:
            break
        time.sleep(0.5)
    assert cluster.owner(uuid) == A
    time.sleep(4)  # the API's own ring: hash_ring_reset_interval
    assert cluster.boot(m).status_code == 404
    shim_a = cluster.conductors[A]['shim'].log()
    assert 'node %s: not found' % uuid in shim_a
    assert 'does not exist' in shim_a

    # B comes back: the node is B's again, and so is the answer.
    cluster.conductors[B]['shim'] = cluster.start_shim(B)
    cluster.restart_conductor(B)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and cluster.owner(uuid) != B:
        time.sleep(0.5)
    time.sleep(4)
    assert cluster.boot(m).content == cluster.written_config(uuid, B)
