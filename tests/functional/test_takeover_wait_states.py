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

"""Takeover in every wait state: a waiting machine boots through the loss
of its conductor, whatever it waits for.

API, conductors A and B with their shims, MariaDB. B owns a node in each
wait state Ironic lets fake hardware reach; B (conductor and shim) is
SIGKILLed; A, the new owner, prepares each with Ironic's own code for its
state and serves its own fresh script. (The Metal3 HA shape's takeover is
``metal3_ha/test_failover.py``: its http_url is the VM's address for the
image server, which a deploy cannot validate.)
"""

import time

import pytest

from tests.harness import client
from tests.harness import config
from tests.harness import net

pytestmark = pytest.mark.slow

#: The ring's detection: [conductor]heartbeat_timeout (10 s here) plus
#: [DEFAULT]hash_ring_reset_interval (3 s) of the API.
DETECTION = 13
#: What the takeover may add: [boot_config]takeover_interval (2 s), the
#: preparation, and the API's next ring.
TAKEOVER_BOUND = 10

A, B = '127.0.0.2', '127.0.0.3'
STATES = client.IronicClient.WAIT_STATES


@pytest.fixture(scope='module')
def cluster(launch):
    conf = config.every_wait_state({
        'conductor': {'heartbeat_timeout': '10', 'heartbeat_interval': '2'},
        'DEFAULT': {'hash_ring_reset_interval': '3'}})
    with launch('failover-states', db='mysql', conductor_hosts=[A, B],
                extra_conf=conf) as c:
        c.serve_http()  # the deploy checks the image URL it publishes
        yield c


def test_every_wait_state_is_taken_over(cluster):
    """B (conductor and shim) SIGKILLed while it owns a node in each wait
    state: within the ring's detection + TAKEOVER_BOUND, A serves each a
    fresh script of its own for that state (the rescue kernel in rescue
    wait, the inspection callback in inspect wait), taken over once."""
    c = cluster
    nodes = {}
    for state in STATES:
        nodes[state] = c.client.create_node_on(B)
        c.client.to_wait_state(state, [nodes[state]])
    for state, node in nodes.items():
        assert c.client.boot(node.mac).content == \
            c.written_config(node.uuid, B), state
    lost = c.conductors[B]
    for proc in (lost.process, lost.shim):
        proc.kill()
    killed = time.monotonic()
    pending, took = dict(nodes), {}

    def every_node_served_by_a():
        for state, node in list(pending.items()):
            resp = c.client.boot(node.mac)
            if resp.status_code == 200:
                assert resp.content == c.written_config(node.uuid, A)
                took[state] = time.monotonic() - killed
                del pending[state]
        return not pending

    try:
        net.wait_for(every_node_served_by_a, DETECTION + 30,
                     'every wait state served by A', interval=0.3)
    finally:
        print('\nconductor B SIGKILLed; its nodes served by A after: %s'
              % {s: round(t, 1) for s, t in took.items()})
    for state, node in nodes.items():
        took_over = 'Took over node %s in %s' % (node.uuid, state)
        assert took[state] < DETECTION + TAKEOVER_BOUND, (state, took)
        assert c.client.node(node.uuid)['provision_state'] == state
        assert c.conductors[A].shim.log_once(took_over).count(
            took_over) == 1
        script = c.client.boot(node.mac).content.decode()
        assert c.conductors[A].http_url in script, state
    rescue = c.client.boot(nodes['rescue wait'].mac).content.decode()
    assert '/%s/rescue_kernel ' % nodes['rescue wait'].uuid in rescue
    assert 'ipa-inspection-callback-url=' in c.client.boot(
        nodes['inspect wait'].mac).content.decode()
