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

"""Metal3's HA shape with TLS, as ironic-standalone-operator runs it.

Three all-in-one ``ironic`` replicas (API + conductor each) on 127.0.0.2-.4,
MariaDB, each started with ``--config-dir`` (Ironic's ironic.conf and the
shipped drop-in), each API on its unix socket behind its own Debian httpd
(image server on <replica>:6180, TLS API vhost on <replica>:6385), Ironic's
JSON-RPC with http_basic and TLS on 6189, a shim beside each replica with
the same. A machine may ask any replica's image server: the answer is the
owning replica's script. With the owner gone, the others answer the new
owner's script or the generic 404 within ``rpc_timeout`` + 1 s, never a 5xx
from a proxy. A UEFI iPXE VM takes the root script from replica 1 and its
kernel from replica 3, which owns its node.
"""

import contextlib
import re
import time

import pytest

from tests.harness import logs
from tests.harness import metal3
from tests.harness import net
from tests.harness import stats
from tests.harness import vm

pytestmark = pytest.mark.slow

REPLICAS = metal3.REPLICAS
GUEST = metal3.GUEST


@pytest.fixture(scope='module')
def nodes(cluster):
    """A node in ``clean wait`` on each replica: ``{replica: node}``."""
    nodes = {host: cluster.client.create_node_on(host) for host in REPLICAS}
    cluster.client.to_clean_wait(nodes.values())
    return nodes


def test_every_replica_owns_a_node(cluster, nodes):
    assert {cluster.owner(n.uuid) for n in nodes.values()} == set(REPLICAS)
    for c in cluster.conductors.values():
        assert '--config-dir' in c.process.argv
        assert '--config-dir' in c.shim.argv
        # Secured as [json_rpc], which the drop-in no longer repeats.
        assert 'JSON-RPC: auth strategy http_basic, TLS' in c.shim.log()


def test_any_image_server_answers_with_the_owners_script(cluster, nodes,
                                                         httpd):
    for owner, node in nodes.items():
        expected = cluster.written_config(node.uuid, owner)
        assert ('kernel http://%s:%d/%s/deploy_kernel' % (
            GUEST[owner], httpd.http_port, node.uuid)).encode() in expected
        for replica in REPLICAS:
            status, body, _took = httpd.boot(replica, node.mac)
            assert (status, body) == (200, expected), (replica, owner)
    # Each replica's API names the replica that answered: the owner.
    owner_of = {node.uuid: owner for owner, node in nodes.items()}
    for c in cluster.conductors.values():
        answers = re.findall(r': 200, node (\S+), \d+ bytes from (\S+) in',
                             c.process.log())
        assert len(answers) >= len(REPLICAS)
        for node, answered in answers:
            assert answered.split(':')[0] == owner_of[node], (c.host, node)


def test_uefi_ipxe_vm_boots_through_the_httpd_recipe(cluster, nodes, httpd):
    """Root script from replica 1's image server, /v1/boot through it,
    kernel and ramdisk from replica 3's, which owns the node."""
    first, third = (cluster.conductors[h] for h in (REPLICAS[0],
                                                    REPLICAS[2]))
    node = nodes[third.host]
    since = time.time()
    kernel = '/%s/deploy_kernel' % node.uuid
    ramdisk = '/%s/deploy_ramdisk' % node.uuid
    third_log = httpd.access_log(cluster, third)

    def got(path):
        return [r for r in logs.access_log(third_log, since)
                if r.path == path and r.status == 200]

    took = vm.boot([node.mac], httpd.image_server(first.host) +
                   '/boot.ipxe', until=lambda: got(ramdisk), uefi=True,
                   forwards=httpd.forwards(REPLICAS),
                   log_path=cluster.workdir + '/vm-serial.log')
    events = []
    for c in cluster.conductors.values():
        events += [(r.when, 'httpd-%d' % c.index, r) for r in
                   logs.access_log(httpd.access_log(cluster, c), since)]
    events.sort(key=lambda e: e[0])
    print('\nUEFI iPXE VM %s, node %s owned by replica 3, %.1f s:'
          % (node.mac, node.uuid, took))
    for when, who, r in events[:8]:
        print('  +%6.3fs %s %s %s -> %d' % (when - since, who, r.method,
                                            r.path, r.status))
    paths = [(who, r.path) for _w, who, r in events if r.status == 200]
    names = ['httpd-%d' % c.index for c in (first, third)]
    assert paths[0] == (names[0], '/boot.ipxe')
    boot = [p for who, p in paths if p.startswith('/v1/boot/')]
    assert boot and logs.BootRequest(0, 'GET', boot[0], 200).for_mac(
        node.mac)
    assert (names[0], boot[0]) in paths
    assert paths.index((names[1], kernel)) < paths.index((names[1], ramdisk))
    assert paths.index((names[0], boot[0])) < paths.index((names[1], kernel))


def test_the_owner_lost_is_the_new_owners_script_or_the_404(
        cluster, nodes, httpd):
    """Replica 3 goes away (ironic, shim, httpd). Until the ring notices,
    the others ask its shim (refused: the 404 at once), then the new owner
    (its script, or the 404: it never wrote one). Never a 5xx, never more
    than rpc_timeout + 1 s."""
    lost = cluster.conductors[REPLICAS[2]]
    node = nodes[lost.host]
    for proc in [lost.process, lost.shim] + httpd.httpds(cluster, lost):
        proc.stop()
    answers, moved = [], []

    def five_seconds_after_the_move():
        for replica in REPLICAS[:2]:
            status, body, took = httpd.boot(
                replica, node.mac, timeout=metal3.RPC_TIMEOUT + 5)
            answers.append((replica, status, took, body))
        if not moved and cluster.owner(node.uuid) != lost.host:
            moved.append(time.monotonic())
        return moved and time.monotonic() > moved[0] + 5

    # Bounded; whether the ring moved the node is asserted below.
    with contextlib.suppress(TimeoutError):
        net.wait_for(five_seconds_after_the_move, 40,
                     'five seconds after the move', interval=0.5)
    statuses = stats.tally(status for _r, status, _t, _b in answers)
    print('\nowner %s lost: %d answers %s, slowest %.2f s; the ring moved '
          'the node to %s' % (lost.host, len(answers), statuses,
                              max(a[2] for a in answers),
                              cluster.owner(node.uuid)))
    assert moved, 'the ring never moved the node'
    assert set(statuses) <= {200, 404}, statuses
    assert max(took for _r, _s, took, _b in answers) < metal3.RPC_TIMEOUT + 1
    new_owner = cluster.owner(node.uuid)
    for _replica, status, _took, body in answers:
        if status == 200:
            assert body == cluster.written_config(node.uuid, new_owner)
