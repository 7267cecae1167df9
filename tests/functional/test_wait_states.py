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

"""/v1/boot for a node in each wait state Ironic lets fake hardware reach.

One all-in-one ``ironic`` on MariaDB with ``config.every_wait_state()``
(agent inspect and rescue interfaces, no callback timeouts) and its
http_url served; a node brought by the client into each of ``clean wait``,
``inspect wait``, ``wait call-back``, ``rescue wait`` and ``service wait``
by Ironic itself, so every script served here is one a real conductor wrote
for that state.
"""

import time

import pytest

from tests.harness import client
from tests.harness import config

pytestmark = pytest.mark.slow

HOST = '127.0.0.2'
STATES = client.IronicClient.WAIT_STATES


@pytest.fixture(scope='module')
def cluster(launch):
    with launch('wait-states', db='mysql', conductor_hosts=[HOST],
                all_in_one=True, rpc_transport='none',
                extra_conf=config.every_wait_state()) as c:
        c.serve_http()  # the deploy checks the image URL it publishes
        yield c


@pytest.fixture(scope='module')
def nodes(cluster):
    """``{wait state: EnrolledNode}``, each node brought there alone."""
    nodes, seconds = {}, {}
    for state in STATES:
        node = cluster.client.create_node()
        started = time.monotonic()
        cluster.client.to_wait_state(state, [node])
        seconds[state] = round(time.monotonic() - started, 1)
        nodes[state] = node
    print('seconds to reach each state: %s' % seconds)
    return nodes


@pytest.mark.parametrize('state', STATES)
def test_serves_what_the_conductor_wrote(cluster, nodes, state):
    node = nodes[state]
    assert cluster.client.node(node.uuid)['provision_state'] == state
    assert cluster.owner(node.uuid) == HOST
    expected = cluster.written_config(node.uuid, HOST)
    resp = cluster.client.boot(node.mac)
    assert resp.status_code == 200, resp.text
    assert resp.content == expected
    assert expected.startswith(b'#!ipxe')
    assert node.uuid.encode() in expected


def test_rescue_wait_boots_the_rescue_kernel(cluster, nodes):
    """The script boots (``goto deploy``) the rescue kernel and ramdisk."""
    node = nodes['rescue wait']
    script = cluster.client.boot(node.mac).content.decode()
    lines = script.splitlines()
    deploy = lines[lines.index(':deploy'):]
    kernel = next(line for line in deploy if line.startswith('kernel '))
    initrd = next(line for line in deploy if line.startswith('initrd '))
    assert '/%s/rescue_kernel ' % node.uuid in kernel, kernel
    assert '/%s/rescue_ramdisk ' % node.uuid in initrd, initrd
    assert 'deploy_kernel' not in script


def test_inspect_wait_carries_the_callback_url(cluster, nodes):
    script = cluster.client.boot(nodes['inspect wait'].mac).content
    assert b'ipa-inspection-callback-url=%s/v1/continue_inspection' % (
        cluster.api_url.encode()) in script
