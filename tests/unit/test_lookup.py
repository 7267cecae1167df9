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

"""The lookup on a SQLite file: its own small pool, never a stale answer,
never in a writer's way."""

from ironic.conf import CONF
from ironic.db import api as db_api
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.api import lookup


@pytest.fixture
def pooled(ironic_db):
    find = lookup.NodeLookup(max_connections=2,
                             database_url=CONF.database.connection)
    yield find
    find._engine.dispose()


def test_sqlite_file_keeps_its_connections(pooled, make_node):
    node, mac = make_node()
    for _ in range(5):
        assert pooled(None, mac).uuid == node.uuid
    # One connection opened once and kept, not one per request.
    assert pooled._engine.pool.checkedin() == 1
    assert pooled._engine.pool.checkedout() == 0


def test_a_write_in_between_is_seen_and_not_blocked(pooled, make_node):
    node, mac = make_node()
    assert pooled(None, mac).provision_state == 'clean wait'
    # Ironic's own engine writes while the lookup's pool holds its
    # connection: no lock is left behind by the read.
    db_api.get_instance().update_node(node.id,
                                      {'provision_state': 'active'})
    with pytest.raises(exception.BootConfigNotFound, match='"active"'):
        pooled(None, mac)


@pytest.mark.parametrize('url, pooled_', [
    ('sqlite:////var/lib/ironic/ironic.sqlite', True),
    ('sqlite:///ironic.sqlite', True),
    ('sqlite://', False),
    ('sqlite:///:memory:', False),
    ('mysql+pymysql://ironic:x@127.0.0.1/ironic', False),
    ('postgresql+psycopg2://ironic@127.0.0.1/ironic', False),
    (None, False),
])
def test_only_a_sqlite_file_gets_a_pool_of_its_own(url, pooled_):
    assert lookup._is_sqlite_file(url) is pooled_
