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

"""Which boot configuration each machine was served: the node's history.

Every boot configuration served is recorded in Ironic's own node history
(``GET /v1/nodes/<node>/history``, ``baremetal node history list <node>``),
event type ``boot_config``: when, which name, how many bytes and their
SHA-256 (compare with the owner's file), to which source address, by which
process (``ironic-boot-config-api@<host>``, or ``ironic-api``, ``ironic``)
and from which owner (the record's ``conductor``). It lives in Ironic's
database, so every replica and every API process sees every record, and it
outlives restarts and takeovers; Ironic's own ``[conductor]node_history*``
options switch it off and prune it.

The request never writes: it hands the record to a background thread
(bounded queue; a full queue drops it, counted and logged once a minute),
and only when something changed: per node and process, a record is
written when the name, the owner or the body differs from the node's last
one, or ``interval`` seconds after it (a machine that asks again and again
in a loop writes once a minute, a flood of requests for unknown MACs never).
"""

import collections
import datetime
import hashlib
import os
import queue
import re
import threading
import time

from ironic import objects
from ironic.common import context as ironic_context
from ironic.db.sqlalchemy import models
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log
import sqlalchemy as sa

LOG = log.getLogger(__name__)

EVENT_TYPE = 'boot_config'
_EVENT = ('Served {name} ({bytes} bytes, sha256 {sha256}) to {source} '
          'by {served_by} (pid {pid})')
_PARSE = re.compile(r'^Served (?P<name>\S+) \((?P<bytes>\d+) bytes, sha256 '
                    r'(?P<sha256>[0-9a-f]+)\) to (?P<source>\S+) by '
                    r'(?P<served_by>\S+) \(pid (?P<pid>\d+)\)$')
#: Nodes whose last record a process remembers (the least recently served
#: is forgotten first: it is recorded again at its next request).
REMEMBERED = 65536

_history = models.NodeHistory.__table__
_ports = models.Port.__table__
_LAST = (sa.select(_history.c.created_at, _history.c.conductor,
                   _history.c.event)
         .select_from(_history.join(
             _ports, _ports.c.node_id == _history.c.node_id))
         .where(_ports.c.address == sa.bindparam('address'),
                _history.c.event_type == EVENT_TYPE)
         .order_by(_history.c.id.desc()).limit(1))


class ServedHistory:
    """Records what the boot path served, off the request's thread.

    :param served_by: this process, as the records name it:
        ``<program>@<[DEFAULT]host>`` (and its pid).
    :param interval: seconds after which an unchanged answer is recorded
        again; 0: never again.
    :param queue_size: records waiting for the writer at most.
    """

    def __init__(self, served_by, interval=60, queue_size=1024,
                 clock=time.monotonic):
        self.served_by = served_by
        self.interval = interval
        self.written = self.failed = self.dropped = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._last = collections.OrderedDict()  # node uuid -> (what, when)
        self._queue_size = queue_size
        self._pid = None
        self._dropped_logged = 0
        self._dropped_said_at = None

    def served(self, node, name, config, owner, source):
        """The request served ``config`` (a BootConfig) of ``node``: queue
        its record if it differs from the last one. Never blocks."""
        sha256 = hashlib.sha256(config.body).hexdigest()
        what = (name, owner, sha256)
        now = self._clock()
        with self._lock:
            last = self._last.get(node.uuid)
            if last is not None and last[0] == what and (
                    not self.interval or now - last[1] < self.interval):
                self._last.move_to_end(node.uuid)
                return
            self._last[node.uuid] = (what, now)
            self._last.move_to_end(node.uuid)
            if len(self._last) > REMEMBERED:
                self._last.popitem(last=False)
            writer = self._writer()
        record = dict(node_id=node.id, conductor=owner,
                      state=node.provision_state,
                      event=_EVENT.format(name=name, bytes=len(config.body),
                                          sha256=sha256, source=source or '-',
                                          served_by=self.served_by,
                                          pid=os.getpid()))
        try:
            writer.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1
                # Forget it, so that the next request tries again.
                self._last.pop(node.uuid, None)
            self._say_dropped()

    def flush(self, timeout=10.0):
        """Wait until every queued record is written (for tests and stop)."""
        deadline = self._clock() + timeout
        with self._lock:
            writer = self._queue if self._pid == os.getpid() else None
        while writer is not None and writer.unfinished_tasks and \
                self._clock() < deadline:
            time.sleep(0.01)

    def _writer(self):
        """The queue of this process's writer thread (started at first use,
        and again in a forked child: the parent's thread is not there)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._queue = queue.Queue(self._queue_size)
            threading.Thread(target=self._write, args=(self._queue,),
                             name='boot-config-history', daemon=True).start()
        return self._queue

    def _write(self, records):
        context = ironic_context.get_admin_context()
        # Newer Ironic records the provision state with each event.
        has_state = 'state' in objects.NodeHistory.fields
        while True:
            record = records.get()
            try:
                if not has_state:
                    record.pop('state')
                objects.NodeHistory(context, event_type=EVENT_TYPE,
                                    severity='INFO', **record).create()
                self.written += 1
            except Exception as exc:
                self.failed += 1
                LOG.warning('Could not record in the history of node id '
                            '%(node)s that %(event)s: %(kind)s: %(error)s',
                            {'node': record['node_id'],
                             'event': record['event'], 'kind':
                             type(exc).__name__, 'error': exc})
            finally:
                records.task_done()

    def _say_dropped(self):
        now = self._clock()
        if self._dropped_said_at is not None and \
                now - self._dropped_said_at < 60:
            return
        self._dropped_said_at = now
        LOG.warning('%d boot configuration record(s) not written to the '
                    'node history: the writer is %d behind (the database '
                    'is slow or down)', self.dropped - self._dropped_logged,
                    self._queue_size)
        self._dropped_logged = self.dropped


def last_served(mac):
    """The latest record of the node with a port of ``mac`` (lowercase, with
    colons): ``{'at', 'owner', 'name', 'bytes', 'sha256', 'source',
    'served_by'}``, or None if it has none."""
    holder = _Holder()
    with enginefacade.reader.connection.using(holder) as conn:
        row = conn.execute(_LAST, {'address': mac}).first()
    if row is None:
        return None
    at = row.created_at
    if at.tzinfo is None:   # Ironic stores UTC
        at = at.replace(tzinfo=datetime.timezone.utc)
    answer = {'at': at.isoformat(), 'owner': row.conductor}
    match = _PARSE.match(row.event or '')
    if match is None:
        answer['event'] = row.event
    else:
        answer.update(match.groupdict(), bytes=int(match['bytes']),
                      pid=int(match['pid']))
    return answer


class _Holder:
    """Where oslo.db's enginefacade keeps a transaction's state."""
