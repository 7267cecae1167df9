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

"""What was served goes to the node's history in Ironic's database: once per
change, off the request's thread, and the explain endpoint reads it back."""

import threading

from ironic import objects
from ironic.common import context as ironic_context
from ironic.conf import CONF

from ironic_boot_config_mw.api import history
from ironic_boot_config_mw.api import lookup
from ironic_boot_config_mw.providers import base
from tests.unit import fakes


def records_of(node):
    return [h for h in objects.NodeHistory.list_by_node_id(
        ironic_context.get_admin_context(), node.id)
        if h.event_type == history.EVENT_TYPE]


def served(log, node, mac, body=b'#!ipxe\n', name='boot.ipxe',
           owner='c1'):
    looked_up = lookup.NodeLookup()(None, mac)
    log.served(looked_up, name, base.BootConfig(body), owner, '10.0.0.7')


def test_a_record_says_what_where_and_by_whom(make_node):
    node, mac = make_node()
    log = history.ServedHistory('ironic-boot-config-api@api-1')
    served(log, node, mac, b'#!ipxe\nboot\n')
    log.flush()
    [record] = records_of(node)
    assert record.conductor == 'c1' and record.severity == 'INFO'
    assert record.event.startswith(
        'Served boot.ipxe (12 bytes, sha256 ') and record.event.endswith(
        ') to 10.0.0.7 by ironic-boot-config-api@api-1 (pid %d)'
        % __import__('os').getpid())
    last = history.last_served(mac)
    assert last == {
        'at': record.created_at.isoformat(),
        'owner': 'c1', 'name': 'boot.ipxe', 'bytes': 12,
        'sha256': __import__('hashlib').sha256(b'#!ipxe\nboot\n').hexdigest(),
        'source': '10.0.0.7', 'served_by': 'ironic-boot-config-api@api-1',
        'pid': __import__('os').getpid()}


def test_only_changes_and_then_once_per_interval(make_node):
    node, mac = make_node()
    clock = fakes.Clock()
    log = history.ServedHistory('p@h', interval=60, clock=clock)
    for _ in range(5):
        served(log, node, mac)                       # 1: the first
    served(log, node, mac, body=b'#!ipxe\nnew\n')    # 2: a new body
    served(log, node, mac, body=b'#!ipxe\nnew\n', name='x.ipxe')  # 3
    served(log, node, mac, body=b'#!ipxe\nnew\n', name='x.ipxe',
           owner='c2')                               # 4: a new owner
    clock.now += 59
    served(log, node, mac, body=b'#!ipxe\nnew\n', name='x.ipxe', owner='c2')
    clock.now += 1
    served(log, node, mac, body=b'#!ipxe\nnew\n', name='x.ipxe',
           owner='c2')                               # 5: a minute later
    log.flush()
    assert len(records_of(node)) == 5 == log.written
    assert history.last_served(mac)['owner'] == 'c2'


def test_nothing_recorded_and_none_to_read(make_node):
    node, mac = make_node()
    assert history.last_served(mac) is None
    assert history.last_served('52:54:00:ee:ee:01') is None


def test_a_full_queue_drops_and_forgets(make_node, caplog):
    """The request never waits for the database: beyond the queue a record
    is dropped (and tried again at the node's next request)."""
    node, mac = make_node()
    log = history.ServedHistory('p@h', queue_size=1)
    hold = threading.Event()
    original = objects.NodeHistory.create

    def slow_create(self, context=None):
        hold.wait(5)
        return original(self, context)

    objects.NodeHistory.create = slow_create
    try:
        served(log, node, mac, body=b'1')   # taken by the writer
        deadline = __import__('time').monotonic() + 5
        while log._queue.qsize() and __import__('time').monotonic() \
                < deadline:
            __import__('time').sleep(0.01)
        served(log, node, mac, body=b'2')   # queued
        served(log, node, mac, body=b'3')   # dropped
        assert log.dropped == 1
        assert 'not written to the node history' in caplog.text
    finally:
        hold.set()
        log.flush()
        objects.NodeHistory.create = original
    served(log, node, mac, body=b'3')       # forgotten: recorded now
    log.flush()
    assert log.written == 3


def test_the_filter_records_served_requests_only(make_node, overrides):
    node, mac = make_node()
    app = fakes.make_app()
    for _ in range(3):
        app.get('/v1/boot/%s/boot.ipxe' % mac)
    app.get('/v1/boot/52:54:00:ee:ee:02/boot.ipxe', status=404)
    app.app.history.flush()
    [record] = records_of(node)
    assert record.conductor == '127.0.0.2'   # fakes.Client's answer
    assert 'by ironic-api@%s' % CONF.host in record.event


def test_switched_off_by_either_option(make_node, overrides):
    overrides('record_served', False, 'boot_config')
    assert fakes.make_app().app.history is None
    overrides('record_served', True, 'boot_config')
    overrides('node_history', False, 'conductor')
    assert fakes.make_app().app.history is None
