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

"""Rolling upgrades: the APIs and the shims may be upgraded in either order.

The release before this one (RPC API 1.1: no ``ping``, the shim still named
``ironic-boot-config-conductor``) is installed from this repository's own
history into a virtualenv of its own, beside the same Ironic release, as on
a host not upgraded yet. One cluster half-way through a rolling upgrade:
the shim beside conductor A is the old release, the one beside B this
release; this release's ``ironic-api`` and an old one share the database.
Every API gets every node's script from its owner's shim, over JSON-RPC and
over oslo.messaging (RabbitMQ), which refuses a call of a newer version than
its server's.
"""

from importlib import metadata
import os
import re
import subprocess
import sys

import pytest
import requests

from tests.harness import cluster as cluster_mod

pytestmark = pytest.mark.slow

#: The last commit whose shim speaks RPC 1.1 (the next one added ping).
OLD_RELEASE = '4431616'
A, B = '127.0.0.2', '127.0.0.3'


@pytest.fixture(scope='module')
def old_release(tmp_path_factory):
    """The old release and this Ironic in a virtualenv: its bin directory."""
    venv = tmp_path_factory.mktemp('old-release') / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True,
                   timeout=120)
    python = str(venv / 'bin' / 'python')
    subprocess.run(
        [python, '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
         'ironic==%s' % metadata.version('ironic'),
         'PyMySQL==%s' % metadata.version('PyMySQL'),
         'git+file://%s@%s' % (cluster_mod.ROOT, OLD_RELEASE)],
        check=True, timeout=1200)
    # (Not from this checkout's directory: it would import this release.)
    version = subprocess.run(
        [python, '-c', 'from ironic_boot_config_mw import rpc; '
                       'print(rpc.RPC_API_VERSION)'], cwd=str(venv),
        check=True, capture_output=True, text=True, timeout=60).stdout
    assert version.strip() == '1.1'
    return os.path.dirname(python)


@pytest.fixture(scope='module', params=['json-rpc', 'oslo'])
def cluster(request, launch, old_release):
    extra = {}
    if request.param == 'oslo':
        extra = {'DEFAULT': {
            'transport_url': 'rabbit://guest:guest@127.0.0.1:5672/',
            'control_exchange': 'ibc_upgrade_%d' % os.getpid()}}
    with launch('upgrade-%s' % request.param, db='mysql',
                conductor_hosts=[A, B], rpc_transport=request.param,
                extra_conf=extra) as c:
        # Half-way: A's shim is still the old release.
        c.conductors[A].shim.stop()
        c.start_shim(A, bin_dir=old_release,
                     command='ironic-boot-config-conductor')
        c.wait_ready()
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """A node in ``clean wait`` on each conductor: ``{host: node}``."""
    nodes = {host: cluster.client.create_node_on(host) for host in (A, B)}
    cluster.client.to_clean_wait(nodes.values())
    return nodes


@pytest.fixture(scope='module')
def old_api(cluster, old_release):
    """An ``ironic-api`` of the old release: ``(url, Process)``."""
    return cluster.start_extra_api('api-old', {}, bin_dir=old_release)


def test_every_api_gets_every_script_from_its_owner(cluster, nodes, old_api):
    old_url, old_process = old_api
    apis = {'this release': (cluster.api_url, cluster.api_process),
            'old release': (old_url, old_process)}
    for api, (url, process) in apis.items():
        for host, node in nodes.items():
            resp = requests.get('%s/v1/boot/%s/boot.ipxe' % (url, node.mac),
                                timeout=30)
            assert resp.status_code == 200, (api, host, resp.text)
            assert resp.content == cluster.written_config(node.uuid, host)
        # Each API says which shim answered: the node's owner's.
        answered = dict(re.findall(r': 200, node (\S+), \d+ bytes from '
                                   r'(\S+) in', process.log()))
        for host, node in nodes.items():
            assert answered[node.uuid].split(':')[0] == host, api


def test_the_old_shim_is_the_old_release(cluster):
    """It answers boots but not ping, which came after it."""
    resp = cluster.client.get('/v1/boot-explain', timeout=60)
    shims = {h.split(':')[0]: s for h, s in resp.json()['shims'].items()}
    assert shims[B]['alive'] and shims[B]['rpc_api_version'] == '1.2'
    assert not shims[A]['alive']
    assert 'ironic-boot-config-conductor' in cluster.conductors[A].shim.argv[0]
