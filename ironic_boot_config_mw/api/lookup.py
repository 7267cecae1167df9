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

"""MAC -> port -> node, in one read-only query, and the state gate.

The gate is Ironic's own ``/v1/lookup`` rule: a node waiting to boot (a
``* wait`` state), or, for a node with fast track (``[deploy]fast_track``,
or its ``driver_info/fast_track``, read by Ironic's own
``utils.fast_track_enabled``), any of Ironic's
``states.FASTTRACK_LOOKUP_ALLOWED_STATES``: a fast-tracked machine that
reboots in ``manageable`` or ``available`` gets the script Ironic kept for
it. Only that case reads ``driver_info``, in a second query.

The query runs on Ironic's own tables (``ironic.db.sqlalchemy.models``) and
Ironic's own engine (the oslo.db ``enginefacade`` Ironic configures), but on
a SQLite file, where that engine opens a connection per request. It is
ONE prebuilt SELECT of the columns the boot path needs: loading a Port and
a Node as versioned objects costs seven queries and ~7 ms of CPU per
request (measured on Ironic 39 with MariaDB, doc/performance.md); this
costs one and ~0.4 ms. Nothing is cached: every request sees the node's
current state and owner.
"""

import contextlib
import threading
import typing

from ironic.common import exception as ironic_exception
from ironic.common import states
from ironic.common import utils as ironic_utils
from ironic.db.sqlalchemy import models
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from ironic_boot_config_mw import exception

#: The states in which a node is waiting for its ramdisk to boot.
WAIT_STATES = frozenset([states.DEPLOYWAIT, states.CLEANWAIT,
                         states.INSPECTWAIT, states.RESCUEWAIT,
                         states.SERVICEWAIT])

_ports = models.Port.__table__
_nodes = models.Node.__table__
_QUERY = (
    sa.select(_ports.c.uuid.label('port_uuid'), _ports.c.pxe_enabled,
              _nodes.c.id, _nodes.c.uuid, _nodes.c.driver,
              _nodes.c.conductor_group, _nodes.c.provision_state,
              _nodes.c.boot_interface)
    .select_from(_ports.join(_nodes, _ports.c.node_id == _nodes.c.id))
    .where(_ports.c.address == sa.bindparam('address'))
)
_PING = sa.select(sa.literal(1))
_DRIVER_INFO = (sa.select(_nodes.c.driver_info)
                .where(_nodes.c.uuid == sa.bindparam('uuid')))


class Node(typing.NamedTuple):
    """What the boot path knows of a node: enough for Ironic's hash ring
    (``uuid``, ``driver``, ``conductor_group``), for the shim, and its
    database ``id`` for its history."""

    uuid: str
    driver: str
    conductor_group: str
    provision_state: str
    boot_interface: str
    id: int = None


def _is_sqlite_file(url):
    if not url:
        return False
    url = sa.engine.make_url(url)
    return (url.get_backend_name() == 'sqlite'
            and url.database not in (None, '', ':memory:'))


class NodeLookup:
    """Finds the node that may boot from a MAC address.

    :param restrict: only nodes in :data:`WAIT_STATES` qualify, and with
        fast track those of Ironic's lookup (``[api]restrict_boot_config``).
    :param max_connections: how many lookups may hold a database connection
        at once: ``[database]max_pool_size``. Beyond the pool, SQLAlchemy
        opens a connection per checkout and closes it on return (a TCP and
        authentication handshake, and with PyMySQL a TLS context, per boot
        request): waiting a moment for a pooled one is far cheaper.
    """

    def __init__(self, restrict=True, max_connections=None,
                 database_url=None):
        self.restrict = restrict
        # enginefacade keeps its transaction state on this object.
        self._context = threading.local()
        self._slots = (threading.BoundedSemaphore(max_connections)
                       if max_connections else contextlib.nullcontext())
        self._connect = self._ironic_connection
        if _is_sqlite_file(database_url):
            # oslo.db gives a file-backed SQLite a NullPool: every request
            # would open the file and close it again, over half of the
            # all-in-one ironic's time under load. This one read-only
            # query keeps its own few connections; each SELECT ends its
            # read transaction, so no lock outlives it.
            self._engine = sa.create_engine(
                database_url, poolclass=sa.pool.QueuePool,
                pool_size=max_connections or 5, max_overflow=0)
            self._connect = self._engine.connect

    def _ironic_connection(self):
        return enginefacade.reader.connection.using(self._context)

    def __call__(self, context, mac):
        """The node owning ``mac`` (lowercase, colons, as Ironic stores it).

        :raises: BootConfigNotFound saying why no node qualifies.
        """
        with self._slots, self._connect() as conn:
            row = conn.execute(_QUERY, {'address': mac}).first()
        if row is None:
            raise exception.UnknownPort(reason='no port has MAC %s' % mac)
        if not row.pxe_enabled:
            raise exception.UnknownPort(
                reason='port %s is not PXE-enabled' % row.port_uuid)
        node = Node(row.uuid, row.driver, row.conductor_group or '',
                    row.provision_state, row.boot_interface, row.id)
        if (self.restrict and node.provision_state not in WAIT_STATES
                and not self._fast_tracked(node)):
            raise exception.NotWaiting(
                reason='node %s is in provision state "%s", not a wait '
                       'state%s' % (node.uuid, node.provision_state,
                                    self._fast_track_reason(node)))
        return node

    def ping(self):
        """Raise unless the database answers a ``SELECT 1``."""
        with self._slots, self._connect() as conn:
            conn.execute(_PING)

    def _fast_tracked(self, node):
        """Whether fast track admits the node, as /v1/lookup decides."""
        if node.provision_state not in states.FASTTRACK_LOOKUP_ALLOWED_STATES:
            return False
        with self._slots, self._connect() as conn:
            driver_info = conn.execute(_DRIVER_INFO,
                                       {'uuid': node.uuid}).scalar()
        try:
            return ironic_utils.fast_track_enabled(
                _WithDriverInfo(driver_info or {}))
        except ironic_exception.InvalidParameterValue:
            return False

    @staticmethod
    def _fast_track_reason(node):
        if node.provision_state in states.FASTTRACK_LOOKUP_ALLOWED_STATES:
            return ' and fast track is off for it'
        return ''


class _WithDriverInfo(typing.NamedTuple):
    """What Ironic's fast_track_enabled() reads of a node."""

    driver_info: dict
