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

import logging

from ironic.common import exception as ironic_exception
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import rpc
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.shim import manager
from tests.unit import fakes


@pytest.mark.parametrize('config', [
    base.BootConfig(b'#!ipxe\nboot\n'),
    base.BootConfig(bytes(range(256)), 'application/octet-stream'),
    base.BootConfig(b''),
])
def test_wire_round_trip(config):
    import json
    assert rpc.from_wire(json.loads(json.dumps(rpc.to_wire(config)))) \
        == config


def test_not_found_crosses_as_ironics_own_class():
    wire = rpc.wire_not_found(exception.BootConfigNotFound(reason='why'))
    assert type(wire) is ironic_exception.NotFound
    assert type(wire).__module__ + '.' == 'ironic.common.exception.'
    assert str(wire) == 'Boot configuration not available: why'


class Registry:
    def __init__(self, provider):
        self.provider = provider

    def get(self, name):
        return self.provider


def test_manager_exposes_only_its_methods():
    """And prepare_host, which Ironic's service base calls and Ironic's
    server publishes as it does the conductor's: it does nothing."""
    from ironic.common.json_rpc import server
    methods = server._build_method_map(manager.ShimManager(None, Registry(1)))
    assert sorted(methods) == ['get_boot_config', 'ping', 'prepare_host']
    assert methods['prepare_host']() is None


def test_ping_says_what_the_shim_serves():
    from ironic_boot_config_mw.providers import dispatch
    registry = dispatch.ProviderRegistry(['ipxe', 'pxe', 'fake'])
    assert manager.ShimManager('127.0.0.2', registry).ping(None) == {
        'host': '127.0.0.2', 'providers': ['ipxe', 'pxe'], 'native': [],
        'rpc_api_version': rpc.RPC_API_VERSION}


def test_manager_sends_not_found_as_ironic_not_found(monkeypatch, caplog):
    caplog.set_level(logging.INFO)

    def refuse(context, node_id, name, registry, boot_interface, takeover):
        raise exception.BootConfigNotFound(reason='nothing here')

    monkeypatch.setattr(manager.dispatch, 'get_boot_config', refuse)
    mgr = manager.ShimManager(None, Registry(None))
    with pytest.raises(Exception) as info:
        mgr.get_boot_config(None, 'node-1', 'boot.ipxe')
    # oslo.messaging wraps expected exceptions; both transports unwrap.
    exc = getattr(info.value, 'exc_info', (None, info.value))[1]
    assert type(exc) is ironic_exception.NotFound
    assert 'node node-1: not found: Boot configuration not available: ' \
        'nothing here' in caplog.text


def test_manager_answers_in_wire_form(monkeypatch):
    monkeypatch.setattr(manager.dispatch, 'get_boot_config',
                        lambda *a: base.BootConfig(b'ok'))
    result = manager.ShimManager(None, Registry(None)).get_boot_config(
        None, 'n', 'x')
    assert rpc.from_wire(result) == base.BootConfig(b'ok')


# -- the circuit, as ShimAPI wires it --------------------------------

@pytest.fixture
def conductor(ironic_db):
    """This process, the only fake-hardware conductor on the ring."""
    from ironic.common import hash_ring
    from ironic.db import api as db_api
    from ironic.tests.unit.db import utils as db_utils
    dbapi = db_api.get_instance()
    cond = db_utils.create_test_conductor(
        id=4711, hostname=fakes.HOST, drivers=[])
    dbapi.register_conductor_hardware_interfaces(
        cond.id, [{'hardware_type': 'fake-hardware', 'interface_type': 'boot',
                   'interface_name': 'ipxe', 'default': True}])
    hash_ring.HashRingManager().reset()
    yield
    dbapi.unregister_conductor_hardware_interfaces(cond.id)
    dbapi.unregister_conductor(fakes.HOST)
    hash_ring.HashRingManager().reset()


@pytest.fixture
def json_rpc_api(conductor, overrides):
    """A ShimAPI on json-rpc whose ring names this host (127.0.0.1)
    and a port nobody listens on yet: ``(api, port)``."""
    from ironic.conf import CONF

    from ironic_boot_config_mw import conf as bc_conf
    from ironic_boot_config_mw.api import rpcapi
    from tests.harness import net
    port = net.free_port(fakes.HOST)
    overrides('rpc_transport', 'json-rpc')
    # [DEFAULT]'s, which our group falls back to: overriding our group's
    # would leave it set for later tests that inherit [json_rpc]'s.
    overrides('auth_strategy', 'noauth')
    overrides('port', port, bc_conf.JSON_RPC_GROUP)
    overrides('shim_retry_interval', 60, 'boot_config')
    return rpcapi.ShimAPI(CONF), port


def _context():
    from ironic.common import context as ironic_context
    return ironic_context.get_admin_context()


def test_get_boot_config_fails_at_once_once_the_shim_failed(
        json_rpc_api, make_node):
    import time
    api, _port = json_rpc_api
    node, _mac = make_node()
    with pytest.raises(ConnectionRefusedError):
        api.get_boot_config(_context(), node, 'boot.ipxe')
    started = time.monotonic()
    with pytest.raises(exception.ShimUnavailable) as info:
        api.get_boot_config(_context(), node, 'boot.ipxe')
    assert time.monotonic() - started < fakes.FAST
    assert fakes.HOST in str(info.value)
    # The probe is never refused by the circuit: it reaches the port.
    with pytest.raises(ConnectionRefusedError):
        api.ping(_context(), fakes.HOST)


def test_a_ping_that_answers_brings_the_shim_back(json_rpc_api, make_node):
    api, port = json_rpc_api
    node, _mac = make_node()
    with pytest.raises(ConnectionRefusedError):
        api.get_boot_config(_context(), node, 'boot.ipxe')
    shim = fakes.FakeShim(fakes.HOST, port)
    try:
        with pytest.raises(exception.ShimUnavailable):
            api.get_boot_config(_context(), node, 'boot.ipxe')
        api.ping(_context(), fakes.HOST)
        config, host = api.get_boot_config(_context(), node, 'boot.ipxe')
    finally:
        shim.close()
    assert (config, host) == (base.BootConfig(b'ok'), fakes.HOST)
    # The first call was refused; then only the ping, which closed it.
    assert shim.calls == ['ping', 'get_boot_config']


def test_the_shims_not_found_leaves_it_closed(json_rpc_api, make_node):
    api, port = json_rpc_api
    node, _mac = make_node()

    def nothing(params):
        raise LookupError('Boot configuration not available: no file')
    shim = fakes.FakeShim(fakes.HOST, port, nothing)
    try:
        for _ in range(3):
            with pytest.raises(ironic_exception.NotFound) as info:
                api.get_boot_config(_context(), node, 'boot.ipxe')
            assert type(info.value) is ironic_exception.NotFound
    finally:
        shim.close()
    assert shim.calls == ['get_boot_config'] * 3
    assert not api.circuit.is_open(fakes.HOST)


def test_in_process_transport_has_no_circuit(overrides):
    from ironic.conf import CONF

    from ironic_boot_config_mw.api import rpcapi
    overrides('rpc_transport', 'none')
    assert rpcapi.ShimAPI(CONF).circuit is None
