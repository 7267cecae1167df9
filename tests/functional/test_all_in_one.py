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

"""The all-in-one ``ironic`` process (API + conductor) on SQLite.

With ``rpc_transport = none`` the filter calls the provider in-process (no
shim); with ``json-rpc`` a shim runs beside it as beside any conductor.
"""

import glob
import os
import tempfile

import pytest

from tests.harness import cli
from tests.harness import net

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'


@pytest.fixture(scope='module', params=['none', 'json-rpc'])
def cluster(request, launch):
    with launch('aio-%s' % request.param, db='sqlite',
                conductor_hosts=[HOST], all_in_one=True,
                rpc_transport=request.param, grub_boot_config_api=True,
                extra_conf={'DEFAULT': {'enabled_boot_interfaces':
                                        'fake,ipxe,http'}}) as c:
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    nodes = [cluster.client.create_node() for _ in range(3)]
    cluster.client.to_clean_wait(nodes)
    return nodes


def test_serves_each_nodes_script(cluster, nodes):
    for node in nodes:
        expected = cluster.written_config(node.uuid, HOST)
        for form in (node.mac, node.mac.upper().replace(':', '-')):
            resp = cluster.client.boot(form)
            assert resp.status_code == 200, resp.text
            assert resp.content == expected
        assert b'#!ipxe' in expected and node.uuid.encode() in expected


def test_refusals_are_404(cluster, nodes):
    assert cluster.client.boot('52:54:00:ff:ff:ff').status_code == 404
    assert cluster.client.boot(nodes[0].mac, 'grub.cfg').status_code == 404


def test_no_shim_with_transport_none(cluster):
    shim = cluster.conductors[HOST].shim
    assert (shim is not None) == (cluster.spec.rpc_transport != 'none')


def test_one_option_links_ironics_master_grub_config(cluster):
    """``[boot_config]grub_use_boot_config_api`` alone: the process's own
    render of the master GRUB config (at conductor start, then again by the
    filter) asks the API first."""
    c = cluster.conductors[HOST]
    for root in (c.tftp_root, c.http_root):
        with open(os.path.join(root, 'grub', 'grub.cfg')) as f:
            master = f.read()
        link = 'configfile (http,127.0.0.1:%d)/v1/boot/${net_default_mac}/' \
               'grub.cfg' % cluster.api_port
        assert master.index(link) < master.index(
            'source %s/$net_default_mac.conf' % c.tftp_root)
    assert 'The master GRUB config %s links to the boot configuration ' \
           'API' % os.path.join(c.tftp_root, 'grub', 'grub.cfg') \
        in c.process.log()


def test_template_under_state_path_survives_any_exit(cluster, nodes):
    """The process's template lives in ``<state_path>/boot-config``: the
    same path after a SIGKILL and a restart, nothing in /tmp, and the
    master GRUB config still links after the restart."""
    c = cluster.conductors[HOST]
    template = os.path.join(cluster.workdir, 'state-%d' % c.index,
                            'boot-config', 'initial_grub_cfg.template')
    logged = '[pxe]initial_grub_template of this process: %s' % template
    assert logged in c.process.log()
    tmp_before = set(glob.glob(os.path.join(tempfile.gettempdir(),
                                            'ironic-boot-config-*')))
    c.process.kill()
    assert os.path.exists(template)
    cluster.restart_conductor(HOST)
    assert logged in c.process.log()
    assert set(glob.glob(os.path.join(tempfile.gettempdir(),
                                      'ironic-boot-config-*'))) \
        <= tmp_before
    with open(os.path.join(c.http_root, 'grub', 'grub.cfg')) as f:
        assert '/v1/boot/${net_default_mac}/grub.cfg' in f.read()
    resp = cluster.client.boot(nodes[0].mac)
    assert resp.status_code == 200, resp.text


def test_the_cli_without_authentication(cluster, nodes):
    """``baremetal --os-auth-type none``, as Metal3's single ironic is
    reached: the shims (the process itself with ``rpc_transport =
    none``), and what the all-in-one process served a node."""
    shims = cli.run_json(cluster, 'boot', 'config', 'shims')
    assert [s['Alive'] for s in shims] == [True]
    local = cluster.spec.rpc_transport == 'none'
    assert (shims[0]['Conductor'] == 'local') == local
    node = nodes[2]
    assert cluster.client.boot(node.mac).status_code == 200

    def recorded():
        answer = cli.run_json(cluster, 'boot', 'config', 'explain', node.mac)
        return answer if answer['last_served_at'] else None
    answer = net.wait_for(recorded, 30, 'the served record')
    assert answer['answer'] == 200 and answer['node'] == node.uuid
    assert answer['last_served_served_by'] == 'ironic@%s' % HOST
    assert answer['last_served_owner'].split(':')[0] == HOST
