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

"""Unit tests run against a real SQLite Ironic database, made once."""

# NOTE: first, as in Ironic's own unit tests: the oslo.service backend of
# the release (threading on 2025.2+, eventlet on 2025.1), objects registered.
import ironic.tests.unit  # noqa: F401,I001

from ironic.conf import CONF
from ironic.db.sqlalchemy import models
from ironic import objects
from oslo_db.sqlalchemy import enginefacade
import pytest

from ironic_boot_config_mw import conf as bc_conf
from tests.harness import macs


@pytest.fixture(scope='session', autouse=True)
def ironic_conf(tmp_path_factory):
    # As Ironic's own parse_args: osprofiler's options exist before the
    # DB API module (decorated by Ironic's profiler) is loaded.
    import osprofiler.opts as profiler_opts
    profiler_opts.set_defaults(CONF)
    CONF([], project='ironic', default_config_files=[])
    bc_conf.register_opts(CONF)
    http_root = tmp_path_factory.mktemp('httproot')
    CONF.set_override('http_root', str(http_root), 'deploy')
    CONF.set_override('http_url', 'http://127.0.0.1:8080', 'deploy')
    CONF.set_override('tftp_root', str(tmp_path_factory.mktemp('tftp')),
                      'pxe')
    CONF.set_override('enabled_hardware_types', ['fake-hardware'])
    CONF.set_override('enabled_boot_interfaces',
                      ['fake', 'ipxe', 'pxe', 'http'])
    CONF.set_override('enabled_deploy_interfaces', ['fake', 'direct'])
    CONF.set_override('enabled_network_interfaces', ['noop'])
    CONF.set_override('enabled_power_interfaces', ['fake'])
    CONF.set_override('enabled_management_interfaces', ['fake'])
    CONF.set_override('enabled_console_interfaces', ['no-console'])
    CONF.set_override('enabled_inspect_interfaces', ['no-inspect'])
    CONF.set_override('enabled_vendor_interfaces', ['no-vendor'])
    CONF.set_override('enabled_raid_interfaces', ['no-raid'])
    CONF.set_override('enabled_bios_interfaces', ['no-bios'])
    CONF.set_override('dhcp_provider', 'none', 'dhcp')
    # The takeover scans in a thread of its own and refuses files written
    # before it started: tests of it turn it on (test_takeover.py).
    CONF.set_override('takeover_interval', 0, 'boot_config')
    return CONF


@pytest.fixture(scope='session')
def ironic_db(ironic_conf, tmp_path_factory):
    """A schema made from Ironic's own models in a SQLite file."""
    path = tmp_path_factory.mktemp('db') / 'ironic.sqlite'
    CONF.set_override('connection', 'sqlite:///%s' % path, 'database')
    objects.register_all()
    models.Base.metadata.create_all(enginefacade.writer.get_engine())


@pytest.fixture
def make_node(ironic_db):
    """Create a node with one port in the real DB: ``(node, mac)``."""
    from ironic.tests.unit.db import utils as db_utils
    from oslo_utils import uuidutils

    def make(provision_state='clean wait', pxe_enabled=True,
             boot_interface='ipxe', **fields):
        node = db_utils.create_test_node(
            uuid=uuidutils.generate_uuid(), name=None,
            driver='fake-hardware', boot_interface=boot_interface,
            provision_state=provision_state, **fields)
        mac = macs.new()  # the DB is shared by the session
        db_utils.create_test_port(node_id=node.id, address=mac,
                                  pxe_enabled=pxe_enabled,
                                  uuid=uuidutils.generate_uuid())
        return node, mac
    return make


@pytest.fixture
def overrides():
    """``overrides(name, value, group=None)``: undone after the test."""
    done = []

    def set_(name, value, group=None):
        CONF.set_override(name, value, group)
        done.append((name, group))
    yield set_
    for name, group in done:
        CONF.clear_override(name, group)


@pytest.fixture
def registry():
    """The shipped providers, for the ipxe, fake and http-ipxe interfaces."""
    from ironic_boot_config_mw.providers import dispatch
    return dispatch.ProviderRegistry(['ipxe', 'fake', 'http-ipxe'])
