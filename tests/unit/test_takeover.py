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

"""The takeover: which files are current, what a scan prepares, and the
root iPXE script frozen while Ironic prepares in a shim. A real SQLite DB
with real conductors on Ironic's real hash ring; Ironic's preparation
itself runs on real processes (tests/functional/metal3_ha/test_failover.py)."""

import os
import time

from ironic.common import context as ironic_context
from ironic.common import hash_ring
from ironic.common import pxe_utils
from ironic.conf import CONF
from ironic.db import api as db_api
from oslo_utils import timeutils
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import root_config
from ironic_boot_config_mw import takeover
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.providers import dispatch

ME, OTHER = 'takeover-me', 'takeover-other'


def register(host):
    dbapi = db_api.get_instance()
    cond = dbapi.register_conductor({'hostname': host, 'drivers': []},
                                    update_existing=True)
    dbapi.unregister_conductor_hardware_interfaces(cond.id)
    dbapi.register_conductor_hardware_interfaces(
        cond.id, [{'hardware_type': 'fake-hardware', 'interface_type': 'boot',
                   'interface_name': 'ipxe', 'default': True}])


@pytest.fixture
def conductors(ironic_db):
    """ME and OTHER on the ring; ``leave(host)`` takes one off."""
    dbapi = db_api.get_instance()
    # Other tests' conductors share the session's DB: none may own nodes.
    for row in dbapi.get_online_conductors():
        dbapi.unregister_conductor(row)
    register(ME)
    register(OTHER)
    hash_ring.HashRingManager().reset()

    def leave(host):
        dbapi.unregister_conductor(host)
        hash_ring.HashRingManager().reset()
    yield leave
    for host in (ME, OTHER):
        try:
            dbapi.unregister_conductor(host)
        except Exception:
            pass
    hash_ring.HashRingManager().reset()


@pytest.fixture
def registry():
    return dispatch.ProviderRegistry(['ipxe'])


def rings():
    return hash_ring.HashRingManager(cache=False).ring


def nodes_of(make_node, host, count=1, **fields):
    """Nodes the ring gives to ``host``."""
    found, ring = [], rings()['%s:%s' % ('', 'fake-hardware')]
    for _ in range(100):
        node, _mac = make_node(**fields)
        if next(iter(ring.get_nodes(node.uuid.encode()))) == host:
            found.append(node)
            if len(found) == count:
                return found
    raise AssertionError('no node for %s in 100 tries' % host)


def follow(t):
    t.follow(rings(), takeover.read_nodes())


def config(written_at):
    return base.BootConfig(b'#!ipxe\n', 'text/plain', written_at)


def write_config(uuid, mtime=None):
    path = os.path.join(CONF.deploy.http_root, uuid, 'config')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(b'#!ipxe\nboot\n')
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_at_start_only_files_written_since_are_current(
        conductors, make_node, registry):
    waiting, = nodes_of(make_node, ME)
    active, = nodes_of(make_node, ME, provision_state='active')
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    before = time.time() - 60
    with pytest.raises(exception.BootConfigNotFound,
                       match='before this conductor took the node over'):
        t.check(waiting.uuid, config(before))
    t.check(waiting.uuid, config(time.time()))
    # Not waiting at start: Ironic's own takeover keeps it (ACTIVE).
    t.check(active.uuid, config(before))
    # Produced now, not a file.
    t.check(waiting.uuid, config(None))


def test_a_node_of_another_conductor_is_refused(conductors, make_node,
                                                registry):
    theirs, = nodes_of(make_node, OTHER)
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    with pytest.raises(exception.BootConfigNotFound,
                       match='not this conductor'):
        t.check(theirs.uuid, config(time.time()))


def test_a_gained_node_serves_only_files_written_after_the_gain(
        conductors, make_node, registry):
    gained = nodes_of(make_node, OTHER, count=2,
                      provision_state='available')
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    conductors(OTHER)
    written = time.time()
    time.sleep(0.01)
    follow(t)
    for node in gained:
        with pytest.raises(exception.BootConfigNotFound,
                           match='before this conductor took'):
            t.check(node.uuid, config(written))
        t.check(node.uuid, config(time.time()))


def test_a_node_enrolled_since_the_ring_changed_is_followed_too(
        conductors, make_node, registry):
    # Seen in a rolling restart: a node enrolled after the ring's last
    # change was known neither as another host's nor as gained, and the
    # file a former ownership left here was served once the ring moved it.
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    theirs, = nodes_of(make_node, OTHER, provision_state='available')
    follow(t)  # a scan; the ring as it was
    written = time.time()
    conductors(OTHER)  # the ring gives it to ME; no scan yet
    with pytest.raises(exception.BootConfigNotFound,
                       match='not this conductor'):
        t.check(theirs.uuid, config(written))
    time.sleep(0.01)
    follow(t)
    with pytest.raises(exception.BootConfigNotFound,
                       match='before this conductor took'):
        t.check(theirs.uuid, config(written))
    t.check(theirs.uuid, config(time.time()))


def test_a_node_enrolled_here_serves_its_files(conductors, make_node,
                                               registry):
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    mine, = nodes_of(make_node, ME, provision_state='available')
    follow(t)
    t.check(mine.uuid, config(time.time() - 3600))


def test_no_change_of_the_ring_keeps_what_was_current(
        conductors, make_node, registry):
    mine, = nodes_of(make_node, ME, provision_state='available')
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    follow(t)
    t.check(mine.uuid, config(time.time() - 3600))


@pytest.fixture
def prepared(monkeypatch):
    """Ironic's preparation, as what it leaves: the node's file. Calls
    recorded."""
    calls = []

    def prepare(task):
        calls.append((task.node.uuid, task.shared))
        write_config(task.node.uuid)
    monkeypatch.setitem(takeover.PREPARE, 'clean wait', prepare)
    return calls


@pytest.fixture
def in_process(monkeypatch):
    # The root script is the conductor's own: nothing to freeze.
    monkeypatch.setattr(root_config.process, 'conductor_in_process',
                        lambda: True)


def test_a_scan_prepares_each_waiting_node_without_a_current_file_once(
        conductors, make_node, registry, prepared, in_process):
    # Each entered its state a moment ago (Ironic's objects read the time
    # back aware, the scan's SELECT naive: the same entry).
    missing, stale, fresh = nodes_of(
        make_node, ME, count=3, provision_updated_at=timeutils.utcnow())
    theirs, = nodes_of(make_node, OTHER)
    in_maintenance, = nodes_of(make_node, ME, maintenance=True)
    write_config(stale.uuid, mtime=time.time() - 3600)
    t = takeover.Takeover(ME, registry, 2)
    t._started -= 60  # the process started a minute ago ...
    write_config(fresh.uuid, mtime=time.time() - 1)  # ... this came since
    context = ironic_context.get_admin_context()
    # (Other tests' waiting nodes share the DB: only these are looked at.)
    ours = {n.uuid for n in (missing, stale, fresh, theirs, in_maintenance)}
    assert ours & set(t.scan(context)) == {missing.uuid, stale.uuid}
    # Under Ironic's exclusive lock.
    assert {call for call in prepared if call[0] in ours} == {
        (missing.uuid, False), (stale.uuid, False)}
    assert t.scan(context) == []
    for node in (missing, stale):
        t.check(node.uuid, registry.file_provider('ipxe').get_boot_config(
            base.WithoutTask(base.NodeIdentity(node.uuid, 'ipxe')),
            'boot.ipxe'))
    del theirs, in_maintenance


def test_a_failed_preparation_is_tried_again_later_not_at_every_scan(
        conductors, make_node, registry, monkeypatch, in_process):
    node, = nodes_of(make_node, ME)
    calls = []

    def fail(task):
        calls.append(task.node.uuid)
        raise RuntimeError('BMC unreachable')
    monkeypatch.setitem(takeover.PREPARE, 'clean wait', fail)
    t = takeover.Takeover(ME, registry, 2)
    context = ironic_context.get_admin_context()
    assert node.uuid not in t.scan(context)
    assert calls.count(node.uuid) == 1
    assert node.uuid not in t.scan(context)
    assert calls.count(node.uuid) == 1
    monkeypatch.setattr(takeover, 'RETRY_FAILED', 0)
    t.scan(context)
    assert calls.count(node.uuid) == 2


def test_a_miss_wakes_the_scan(conductors, make_node, registry):
    node, = nodes_of(make_node, ME)
    t = takeover.Takeover(ME, registry, 2)
    follow(t)
    context = ironic_context.get_admin_context()
    with pytest.raises(exception.BootConfigNotFound):
        dispatch.get_boot_config(context, node.uuid, 'boot.ipxe', registry,
                                 'ipxe', t)
    assert t._wake.is_set()


def test_frozen_root_config_renders_what_is_there(monkeypatch, overrides,
                                                  tmp_path):
    monkeypatch.setattr(root_config.process, 'conductor_in_process',
                        lambda: False)
    overrides('http_root', str(tmp_path), 'deploy')
    rendered = os.path.join(CONF.deploy.http_root, 'boot.ipxe')
    text = '#!ipxe\n# {{ not a variable }} {% not a tag %}\nchain x\n'
    with open(rendered, 'w') as f:
        f.write(text)
    configured = CONF.pxe.ipxe_boot_script
    with root_config.frozen():
        assert CONF.pxe.ipxe_boot_script != configured
        pxe_utils.create_ipxe_boot_script()   # Ironic's own render
    assert CONF.pxe.ipxe_boot_script == configured
    with open(rendered) as f:
        assert f.read() == text
    # Without the freeze, Ironic's stock template would have replaced it.
    pxe_utils.create_ipxe_boot_script()
    with open(rendered) as f:
        assert f.read() != text
    os.unlink(rendered)
    with pytest.raises(exception.RootConfigError, match='not rendered'):
        with root_config.frozen():
            pass
