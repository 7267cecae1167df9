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

"""An IPv6-only provisioning network, real iPXE booting over it.

In a network namespace of the test's own (IPv6 has one loopback address;
two conductor hosts need two): conductor A on ``fd00::2``, B on
``fd00::3``, each with its JSON-RPC and its shim on that address (ring
hosts ``[fd00::2]:<port>``), ``ironic-api`` with the filter on ``::1``,
SQLite. iPXE under QEMU's IPv6-only user network configures itself by
SLAAC and reaches this host's ``::1`` as ``[fec0::2]``: the root script A
rendered links to ``[pxe]ipxe_config_api_root_url = http://[fec0::2]:<api
port>``, and ``[boot_config]allowed_source_cidrs`` holds IPv6 networks
only.
"""

import time

import pytest

from tests.harness import client as client_mod
from tests.harness import netns
from tests.harness import vm

pytestmark = pytest.mark.slow

A, B = 'fd00::2', 'fd00::3'
#: Allowed: the machines (QEMU connects from ::1) and host A; not B.
ALLOWED = '::1/128,fd00::2/128'


@pytest.fixture(scope='module')
def cluster(vm_cluster):
    vm.require_qemu()
    with netns.namespace([A, B]), \
            vm_cluster('ipv6', serve_on='::1', db='sqlite',
                       conductor_hosts=[A, B], api_host='::1',
                       http_host=vm.GUEST_HOST6, boot_config_api=True,
                       deploy_kernel=vm.IPXE_KERNEL,
                       extra_conf={'boot_config': {
                           'allowed_source_cidrs': ALLOWED}}) as c:
        yield c


@pytest.fixture(scope='module')
def node_of_b(cluster):
    return cluster.client.waiting_node_on(B)


def test_the_ring_and_the_shims_are_on_ipv6(cluster, node_of_b):
    conductor = cluster.client.node(node_of_b.uuid)['conductor']
    b = cluster.conductors[B]
    assert conductor == '[%s]:%d' % (B, b.json_rpc_port)
    assert 'serving JSON-RPC on [%s]:%d' % (B, cluster.shim_port) \
        in b.shim.log()


def test_the_root_config_links_to_an_ipv6_literal(cluster):
    with open(cluster.conductors[A].http_root + '/boot.ipxe') as f:
        script = f.read()
    assert 'chain http://[%s]:%d/v1/boot/${net${boot_config_netid}/mac}/' \
           'boot.ipxe' % (vm.GUEST_HOST6, cluster.api_port) in script


def test_ipxe_boots_over_ipv6_from_the_owning_conductor(cluster, node_of_b):
    a, b = cluster.http_servers[A], cluster.http_servers[B]
    kernel = '/%s/deploy_kernel' % node_of_b.uuid
    ramdisk = '/%s/deploy_ramdisk' % node_of_b.uuid
    since = time.time()
    root_url = 'http://[%s]:%d/boot.ipxe' % (vm.GUEST_HOST6,
                                             cluster.conductors[A].http_port)
    elapsed = vm.boot([node_of_b.mac], root_url, ipv6=True,
                      until=lambda: b.first(ramdisk, since))
    vm.timeline(cluster, since, 'VM %s (IPv6 only), node %s owned by '
                'conductor B [%s], booted in %.1f s:'
                % (node_of_b.mac, node_of_b.uuid, B, elapsed))
    root = a.first('/boot.ipxe', since)
    api = [r for r in cluster.boot_requests(since=since)
           if r.for_mac(node_of_b.mac)]
    assert root and root.status == 200
    assert [r.status for r in api] == [200]
    assert b.first(kernel, since).status == 200
    assert root.when <= api[0].when + 0.01 <= b.first(kernel, since).when \
        + 0.02
    assert not a.first(kernel)


@pytest.mark.parametrize('source, status', [(A, 200), (B, 404)])
def test_the_allow_list_holds_ipv6_networks(cluster, node_of_b, source,
                                            status):
    resp = client_mod.raw_request('::1', cluster.api_port,
                                  '/v1/boot/%s/boot.ipxe' % node_of_b.mac,
                                  source=source)
    assert resp.status == status
    if status == 200:
        assert resp.body == cluster.written_config(node_of_b.uuid)
    else:
        assert 'the last from %s: source not in allowed_source_cidrs' \
            % source in cluster.api_process.log()
