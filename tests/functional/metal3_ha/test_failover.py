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

"""Failover in Metal3's HA shape: waiting machines boot through the loss
and the restart of their replica.

The shape of ``test_metal3_ha.py`` (3 all-in-one replicas, MariaDB,
JSON-RPC with http_basic and TLS, ``--config-dir``, each http_root served
by its replica's own httpd). Ironic re-prepares only ACTIVE nodes after a
takeover; each replica's shim prepares the waiting nodes its conductor
gained, and serves no file written before it gained them.
"""

import contextlib
import os
import random
import shutil
import threading
import time

import pytest

from tests.harness import client
from tests.harness import logs
from tests.harness import metal3
from tests.harness import net
from tests.harness import stats
from tests.harness import vm

pytestmark = pytest.mark.slow

REPLICAS = metal3.REPLICAS
GUEST = metal3.GUEST

#: The ring's detection: [conductor]heartbeat_timeout (10 s here) plus
#: [DEFAULT]hash_ring_reset_interval (3 s) of the APIs.
DETECTION = 13
#: What the takeover may add: [boot_config]takeover_interval (2 s), the
#: preparation, and the APIs' next ring.
TAKEOVER_BOUND = 10
#: Nodes per replica.
PER_REPLICA = 2


@pytest.fixture(scope='module')
def nodes(cluster):
    """``{replica: [nodes]}``, all in ``clean wait``."""
    nodes = {host: [cluster.client.create_node_on(host)
                    for _ in range(PER_REPLICA)] for host in REPLICAS}
    cluster.client.to_clean_wait([n for ns in nodes.values() for n in ns])
    return nodes


def served(httpd, replicas, node):
    """``{replica: (status, body)}`` of the node's script through each."""
    answers = {}
    for replica in replicas:
        status, body, _took = httpd.boot(replica, node.mac, timeout=15)
        answers[replica] = (status, body)
    return answers


def names_image_server(body, httpd, host, node):
    return ('kernel http://%s:%d/%s/deploy_kernel' % (
        GUEST[host], httpd.http_port, node.uuid)).encode() in body


def until_served_by(httpd, nodes, host, bound):
    """Ask for each node through every replica until every answer is 200
    naming ``host``'s image server (bounded): ``(seconds, {status: count},
    every body seen)``."""
    started = time.monotonic()
    pending = {n.uuid: n for n in nodes}
    answers, bodies = {}, []

    def every_node_served():
        for uuid, node in list(pending.items()):
            got = served(httpd, REPLICAS, node)
            for status, body in got.values():
                answers[status] = answers.get(status, 0) + 1
                bodies.append(body)
            if all(s == 200 and names_image_server(b, httpd, host, node)
                   for s, b in got.values()):
                del pending[uuid]
        return not pending

    net.wait_for(every_node_served, bound, 'nodes %s served by %s'
                 % (list(pending), host), interval=0.3)
    return time.monotonic() - started, answers, bodies


def kill_replica(cluster, httpd, host):
    """SIGKILL the replica's ironic, shim and httpd: a lost pod."""
    c = cluster.conductors[host]
    for proc in [c.process, c.shim] + httpd.httpds(cluster, c):
        proc.kill()
    return c


def test_a_lost_replicas_waiting_nodes_are_served_by_their_new_owner(
        cluster, nodes, httpd):
    """Replica 3 SIGKILLed: within the ring's detection + TAKEOVER_BOUND,
    every one of its waiting nodes is served, through any surviving
    replica, the new owner's fresh script naming ITS image server; each
    taken over once; a real UEFI iPXE VM powered on after the loss boots
    the new owner's kernel."""
    lost = kill_replica(cluster, httpd, REPLICAS[2])
    killed = time.monotonic()
    survivors = REPLICAS[:2]
    timeline = {}
    waiting = {n.uuid: n for n in nodes[lost.host]}
    answers = {}

    def every_node_served_by_a_new_owner():
        for uuid, node in list(waiting.items()):
            owner = cluster.owner(uuid)
            if owner == lost.host:
                continue
            timeline.setdefault(uuid, {}).setdefault(
                'moved', time.monotonic() - killed)
            got = served(httpd, survivors, node)
            for status, _body in got.values():
                answers[status] = answers.get(status, 0) + 1
            if all(status == 200 and names_image_server(body, httpd, owner,
                                                        node)
                   for status, body in got.values()):
                timeline[uuid]['served'] = time.monotonic() - killed
                timeline[uuid]['owner'] = owner
                del waiting[uuid]
        return not waiting

    try:
        net.wait_for(every_node_served_by_a_new_owner,
                     DETECTION + TAKEOVER_BOUND + 20,
                     'nodes %s served by a new owner' % list(waiting),
                     interval=0.3)
    finally:
        print('\nreplica %s SIGKILLed; answers through the survivors '
              'while waiting: %s' % (lost.host, answers))
        for uuid, t in sorted(timeline.items()):
            print('  node %s: ring moved it (API) +%.1f s, new owner %s '
                  'served it +%.1f s' % (uuid, t.get('moved', -1),
                                         t.get('owner'),
                                         t.get('served', -1)))
    for uuid, t in timeline.items():
        assert t['served'] < DETECTION + TAKEOVER_BOUND, (uuid, t)
        new_owner = cluster.conductors[t['owner']]
        # Once, by the new owner's shim, and what it serves is its file.
        took_over = 'Took over node %s in clean wait' % uuid
        assert new_owner.shim.log_once(took_over).count(took_over) == 1
        body = cluster.written_config(uuid, new_owner.host)
        assert served(httpd, survivors, waiting_node(nodes, uuid)) == {
            r: (200, body) for r in survivors}
    # The survivors' root scripts still link to the API (the shim's
    # preparation rendered nothing of its own).
    for host in survivors:
        status, body, _took = httpd.get(host, '/boot.ipxe')
        assert status == 200 and b'/v1/boot/' in body, host

    node = nodes[lost.host][0]
    new_owner = cluster.conductors[timeline[node.uuid]['owner']]
    first = cluster.conductors[survivors[0]]
    since = time.time()
    kernel = '/%s/deploy_kernel' % node.uuid
    owner_log = httpd.access_log(cluster, new_owner)

    def got_kernel():
        return [r for r in logs.access_log(owner_log, since)
                if r.path == kernel and r.status == 200]

    took = vm.boot([node.mac], httpd.image_server(first.host) +
                   '/boot.ipxe', until=got_kernel, uefi=True,
                   forwards=httpd.forwards(survivors),
                   log_path=cluster.workdir + '/vm-failover.log')
    print('UEFI iPXE VM %s: root script from %s, kernel from the new owner '
          '%s in %.1f s' % (node.mac, first.host, new_owner.host, took))


def waiting_node(nodes, uuid):
    return next(n for ns in nodes.values() for n in ns if n.uuid == uuid)


def test_a_replica_back_serves_no_file_of_its_former_ownership(
        cluster, nodes, httpd):
    """Replica 3 comes back with its old http_root, a planted stale script
    in it: the ring moves its nodes back; the stale script is never served,
    the replica prepares them again and serves the fresh one."""
    back = cluster.conductors[REPLICAS[2]]
    planted = {}
    for node in nodes[back.host]:
        path = os.path.join(back.http_root, node.uuid, 'config')
        with open(path, 'wb') as f:
            f.write(b'#!ipxe\necho STALE planted script\nsanboot\n')
        old = time.time() - 3600
        os.utime(path, (old, old))
        planted[node.uuid] = path
    back.shim = cluster.start_shim(back.host)
    cluster._spawn_conductor(back)
    httpd.start_httpd(cluster, back)
    took, answers, bodies = until_served_by(httpd, nodes[back.host],
                                            back.host, bound=90)
    stale = sum(b'STALE' in body for body in bodies)
    print('\nreplica %s back: its nodes served fresh by it after %.1f s; '
          'answers meanwhile %s, stale %d' % (back.host, took, answers, stale))
    assert stale == 0
    for uuid, path in planted.items():
        with open(path, 'rb') as f:
            assert b'STALE' not in f.read()  # prepared again


def test_a_replica_restarted_with_an_emptied_http_root(
        cluster, nodes, httpd):
    """Replica 2's pod recreated: ironic and shim stopped, its http_root
    emptied, both started again: its waiting nodes are served again from
    it within TAKEOVER_BOUND of its start."""
    c = cluster.conductors[REPLICAS[1]]
    mine = [n for ns in nodes.values() for n in ns
            if cluster.owner(n.uuid) == c.host]
    assert mine
    c.process.stop()
    c.shim.stop()
    empty(c.http_root)
    c.shim = cluster.start_shim(c.host)
    cluster._spawn_conductor(c)
    took, answers, _bodies = until_served_by(httpd, mine, c.host, bound=60)
    print('\nreplica %s restarted with an empty http_root: its %d waiting '
          'nodes served again after %.1f s; answers meanwhile %s'
          % (c.host, len(mine), took, answers))
    assert took < TAKEOVER_BOUND + 20


def empty(directory):
    """As a new pod's emptyDir: nothing left in ``directory``."""
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


# -- a rolling restart during a storm ----------------------------------------

#: Nodes added for the storm (beside the module's PER_REPLICA per replica).
STORM_NODES = 18
#: A machine asks again this many seconds later (uniform), as the root
#: script's rounds and reboots make it ask.
ASK_EVERY = (0.5, 1.5)


class Pod:
    """A replica's pod in the recipe's variant for boot storms
    (recipes/metal3.rst): ironic, its shim, ironic-boot-config-api on a
    unix socket of the pod, httpd (image server and TLS API) and an image
    server passing /v1/boot/ to the boot API process."""

    def __init__(self, cluster, httpd, host):
        self.cluster, self.httpd = cluster, httpd
        self.c = cluster.conductors[host]
        self.host = host
        self.socket = os.path.join(cluster.workdir,
                                   'boot-api-%d.sock' % self.c.index)
        self.port = net.free_port(host)   # the image server for /v1/boot/
        self.started = 0
        self.processes = []
        self.down = []                    # (stopped, ready) monotonic

    def start_boot_side(self):
        """The boot API process and the image server in front of it."""
        self.started += 1
        _url, boot_api = self.cluster.start_boot_api(
            'boot-api-%d-%d' % (self.c.index, self.started),
            {'boot_config_api': {'unix_socket': self.socket,
                                 'unix_socket_mode': '0666'}},
            conductor=self.host)
        image_server = self.httpd.start_httpd(
            self.cluster, self.c, name='httpd-boot-api-%d' % self.c.index,
            env={'IRONIC_BOOT_CONFIG_API': 'unix:' + self.socket,
                 'HTTP_PORT': self.port})
        self.processes = [boot_api, image_server]
        # Ready: its first health checks are done (the probe's 503 before).
        net.wait_for(lambda: self.health().status == 200, 30,
                     'the boot API of %s to be ready' % self.host)

    def restart(self):
        """The pod recreated: each container stopped (SIGTERM), /shared
        (the http_root) empty, each started again; returns once ready (its
        conductor registered, its shim listening, its boot API's /health
        200)."""
        stopped = time.monotonic()
        httpds = self.httpd.httpds(self.cluster, self.c)
        for proc in self.processes + httpds + [self.c.process, self.c.shim]:
            proc.stop()
        empty(self.c.http_root)
        self.c.shim = self.cluster.start_shim(self.host)
        self.cluster._spawn_conductor(self.c)
        self.httpd.start_httpd(self.cluster, self.c)
        self.start_boot_side()
        self.cluster.wait_ready()
        self.down.append((stopped, time.monotonic()))

    def health(self):
        return client.unix_request(self.socket, '/health', timeout=5)

    def was_down(self, start, end):
        return any(start < ready and end > stopped
                   for stopped, ready in self.down)

    def boot(self, mac):
        return client.raw_request(self.host, self.port,
                                  '/v1/boot/%s/boot.ipxe' % mac, timeout=15)


class Storm:
    """Each machine asks for its script through the replicas in turn, again
    ASK_EVERY seconds later, until :meth:`stop`; each pod's /health is
    polled every 0.25 s meanwhile. Records ``(start, end, pod, mac,
    status or None, body)`` and ``(start, end, pod, status, seconds)``."""

    def __init__(self, pods, nodes):
        self.pods, self.nodes = pods, nodes
        self.answers, self.probes = [], []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._machine, args=(n, i))
                         for i, n in enumerate(nodes)]
        self._threads += [threading.Thread(target=self._probe, args=(p,))
                          for p in pods]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _machine(self, node, index):
        rng = random.Random(index)
        turn = index
        while not self._stop.is_set():
            pod = self.pods[turn % len(self.pods)]
            turn += 1
            start = time.monotonic()
            try:
                resp = pod.boot(node.mac)
                status, body = resp.status, resp.body
            except OSError:
                status, body = None, b''
            self.answers.append((start, time.monotonic(), pod, node, status,
                                 body))
            self._stop.wait(rng.uniform(*ASK_EVERY))

    def _probe(self, pod):
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                resp = pod.health()
                status, took = resp.status, resp.seconds
            except OSError:
                status, took = None, time.monotonic() - start
            self.probes.append((start, time.monotonic(), pod, status, took))
            self._stop.wait(0.25)


def test_a_rolling_restart_during_a_storm(cluster, nodes, httpd):
    """Every replica's pod recreated in turn (SIGTERM, /shared emptied, the
    next once it is ready) while the module's and STORM_NODES more waiting
    machines ask for their scripts through every replica's boot API
    process, and every replica holds a planted stale script for each node
    it does not own: no answer of a running pod but 200 or the 404, no
    stale script ever, each machine served 200 after the last restart, and
    each running boot API's /health 200 in under 1 s throughout."""
    more = [cluster.client.create_node() for _ in range(STORM_NODES)]
    cluster.client.to_clean_wait(more)
    machines = [n for ns in nodes.values() for n in ns] + more
    for node in machines:
        owner = cluster.owner(node.uuid)
        for c in cluster.conductors.values():
            if c.host != owner:
                plant_stale(c.http_root, node.uuid)
    pods = [Pod(cluster, httpd, host) for host in REPLICAS]
    for pod in pods:
        pod.start_boot_side()
    began = time.monotonic()
    with Storm(pods, machines) as storm:
        time.sleep(3)
        restarts = []
        for pod in pods:
            pod.restart()
            restarts.append((pod.host, pod.down[-1][1] - pod.down[-1][0]))
            time.sleep(3)
        last_ready = time.monotonic()
        # Every machine served 200 again, by its owner, from every pod.
        served_again = {}

        def every_machine_served_again():
            for start, _end, _pod, node, status, _body in list(
                    storm.answers):
                if start > last_ready and status == 200 and \
                        node.uuid not in served_again:
                    served_again[node.uuid] = start - last_ready
            return len(served_again) == len(machines)

        # Bounded; what is missing, if any, is asserted below.
        with contextlib.suppress(TimeoutError):
            net.wait_for(every_machine_served_again, TAKEOVER_BOUND + 20,
                         'every machine served again', interval=0.5)
        time.sleep(2)
    running = [a for a in storm.answers if not a[2].was_down(a[0], a[1])]
    statuses = stats.tally(a[4] for a in running)
    stale = [a for a in storm.answers if b'STALE' in a[5]]
    probes = [p for p in storm.probes if not p[2].was_down(p[0], p[1])]
    slowest = max(p[4] for p in probes)
    longest = longest_without_200(storm.answers, machines, began)
    print('\nrolling restart of %s during a storm of %d machines: %d '
          'answers from running pods %s, stale %d; pods down for %s s; '
          'every machine served 200 again %.1f s after the last pod was '
          'ready; longest time a machine went without a 200: %.1f s; '
          '/health of running boot APIs: %d probes, %s, slowest %.3f s'
          % (', '.join(REPLICAS), len(machines), len(running),
             statuses, len(stale),
             {h: round(t, 1) for h, t in restarts},
             max(served_again.values() or [-1]), longest, len(probes),
             stats.tally(p[3] for p in probes), slowest))
    assert not stale
    assert set(statuses) <= {200, 404}, statuses
    missing = [n.uuid for n in machines if n.uuid not in served_again]
    assert not missing, 'never served after the restarts: %s' % missing
    assert {p[3] for p in probes} == {200}
    assert slowest < 1.0
    for node in machines:
        owner = cluster.owner(node.uuid)
        for pod in pods:
            resp = pod.boot(node.mac)
            assert (resp.status, resp.body) == (
                200, cluster.written_config(node.uuid, owner)), pod.host


def plant_stale(http_root, uuid):
    """A script of an earlier operation, as a former owner leaves it."""
    os.makedirs(os.path.join(http_root, uuid), exist_ok=True)
    with open(os.path.join(http_root, uuid, 'config'), 'wb') as f:
        f.write(b'#!ipxe\necho STALE planted script\nsanboot\n')


def longest_without_200(answers, machines, began):
    """The longest time any machine went without a 200 after ``began``."""
    longest, last = 0.0, {node.uuid: began for node in machines}
    for _start, end, _pod, node, status, _body in sorted(
            answers, key=lambda a: a[0]):
        if status == 200:
            longest = max(longest, end - last[node.uuid])
            last[node.uuid] = end
    return longest
