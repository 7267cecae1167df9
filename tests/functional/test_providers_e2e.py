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

"""Boot interfaces opt in without changing this package, on real processes.

The example package under ``examples/`` is installed with pip into this
environment; its boot interfaces are enabled in ``ironic.conf`` like any
out-of-tree interface. ``example-ipxe`` is served by the example's provider,
``example-native`` by its own ``get_boot_config`` (which wins over the
provider also registered under its name). The GRUB provider serves ``pxe``
and ``http`` nodes.
"""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

EXAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', 'examples',
                       'ironic-boot-config-example')
INTERFACES = 'fake,ipxe,pxe,http,example-ipxe,example-native'
A, B = '127.0.0.2', '127.0.0.3'


@pytest.fixture(scope='module')
def example_installed():
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run(pip + ['install', '--no-deps', os.path.abspath(EXAMPLE)],
                   check=True, timeout=300)
    yield
    subprocess.run(pip + ['uninstall', '-y', 'ironic-boot-config-example'],
                   check=True, timeout=120)


@pytest.fixture(scope='module')
def cluster(launch, example_installed):
    with launch('providers', db='mysql', conductor_hosts=[A, B],
                extra_conf={'DEFAULT': {'enabled_boot_interfaces':
                                        INTERFACES}}) as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """A node in ``clean wait`` per boot interface: ``{interface: node}``."""
    nodes = {iface: cluster.client.create_node(boot_interface=iface)
             for iface in ('example-ipxe', 'example-native', 'pxe', 'http')}
    cluster.client.to_clean_wait(nodes.values())
    return nodes


def test_example_provider_serves_its_interface(cluster, nodes):
    node = nodes['example-ipxe']
    script = cluster.written_config(node.uuid)
    resp = cluster.client.boot(node.mac)
    assert resp.status_code == 200
    assert resp.content == script
    assert cluster.client.boot(node.mac, 'grub.cfg').status_code == 404


def test_native_get_boot_config_wins_over_a_provider(cluster, nodes):
    node = nodes['example-native']
    script = cluster.written_config(node.uuid)
    resp = cluster.client.boot(node.mac)
    assert resp.status_code == 200
    assert resp.content == (b'#!ipxe\n# served by example-native itself\n'
                            + script)


def test_native_unsupported_is_the_generic_404(cluster, nodes):
    resp = cluster.client.boot(nodes['example-native'].mac, 'other.cfg')
    reference = cluster.client.boot('52:54:00:ff:ff:ff')
    assert resp.status_code == 404
    assert resp.content == reference.content == b'# Not Found\n'
    assert 'does not support get_boot_config' in cluster.api_process.log()


def test_shims_loaded_the_example_provider(cluster):
    for c in cluster.conductors.values():
        log = c.shim.log()
        assert 'example-ipxe' in log and 'example-native' in log


@pytest.mark.parametrize('iface', ['pxe', 'http'])
def test_grub_cfg_points_at_the_owning_conductor(cluster, nodes, iface):
    node = nodes[iface]
    owner = cluster.owner(node.uuid)
    written = cluster.written_config(node.uuid, owner, root='tftp_root')
    resp = cluster.client.boot(node.mac, 'grub.cfg')
    assert resp.status_code == 200
    body = resp.text
    assert body.startswith('set default=deploy')
    own = cluster.conductors[owner]
    if iface == 'http':
        device = '(http,%s)' % own.http_url.split('//', 1)[1]
    else:
        device = '(tftp,%s)' % owner  # the owner's [pxe]tftp_server
    assert '    linux %s/%s/deploy_kernel ' % (device, node.uuid) in body
    assert '    initrd %s/%s/deploy_ramdisk\n' % (device, node.uuid) in body
    # Only the load lines changed.
    assert len(body.splitlines()) == len(written.decode().splitlines())
    assert cluster.client.boot(node.mac).status_code == 404  # no boot.ipxe
