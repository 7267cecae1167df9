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

"""A request never writes to the database (real lookup, real provider
dispatch in-process, real tasks where a provider needs one): the only
write is the node history record of what was served, by the history's own
thread, once per node however often it is asked."""

import threading

from ironic.conf import CONF
from oslo_db.sqlalchemy import enginefacade
import pytest
import sqlalchemy as sa
import webtest

from ironic_boot_config_mw.api import middleware
from tests.unit import fakes


@pytest.fixture
def statements(ironic_db):
    """Every statement of every engine (Ironic's, and the lookup's own
    pool for a SQLite file): ``(thread name, its first words)``."""
    seen = []
    enginefacade.writer.get_engine()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((threading.current_thread().name,
                     ' '.join(statement.split()[:3]).upper()))

    sa.event.listen(sa.engine.Engine, 'before_cursor_execute', record)
    yield seen
    sa.event.remove(sa.engine.Engine, 'before_cursor_execute', record)


def test_no_insert_update_delete(make_node, statements, tmp_path):
    CONF.set_override('rpc_transport', 'none')
    try:
        boot_filter = middleware.BootConfigMiddleware(lambda e, s: [],
                                                      conf=CONF)
        app = webtest.TestApp(boot_filter)
        ipxe_node, ipxe_mac = make_node()
        fakes.write_ipxe_config(ipxe_node.uuid)
        pxe_node, pxe_mac = make_node(boot_interface='pxe')
        fakes.write_grub_config(CONF.pxe.tftp_root, pxe_node.uuid,
                                fakes.GRUB_PXE_CFG % {'u': pxe_node.uuid})
        refused, refused_mac = make_node(provision_state='active')
        del statements[:]
        for _ in range(5):
            app.get('/v1/boot/%s/boot.ipxe' % ipxe_mac)      # no task
            app.get('/v1/boot/%s/grub.cfg' % pxe_mac)        # shared task
            app.get('/v1/boot/%s/boot.ipxe' % refused_mac, status=404)
            app.get('/v1/boot/52:54:00:ee:ee:ee/boot.ipxe', status=404)
        boot_filter.history.flush()
    finally:
        CONF.clear_override('rpc_transport')
    assert statements, 'the test saw no statement at all'
    writes = [(thread, s) for thread, s in statements
              if s.split()[0] not in ('SELECT', 'PRAGMA', 'ROLLBACK', 'BEGIN',
                                      'COMMIT')]
    assert writes == [('boot-config-history', 'INSERT INTO NODE_HISTORY')] * 2
