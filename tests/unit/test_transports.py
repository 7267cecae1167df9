"""The API's client and the shim's server, in one process, over each real
transport: Ironic's JSON-RPC (cheroot over loopback) and oslo.messaging over
the local RabbitMQ. The owning conductor comes from Ironic's real hash ring.
"""

import socket

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.common import hash_ring
from ironic.common import rpc as ironic_rpc
from ironic.conf import CONF
from ironic.tests.unit.db import utils as db_utils
from oslo_messaging import opts as messaging_opts
import pytest

from ironic_boot_config_mw.api import rpcapi
from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.shim import manager
from ironic_boot_config_mw.shim import service
from tests import services
from tests.unit import test_providers

HOST = '127.0.0.1'


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def conductor(ironic_db):
    """This process, registered as the only fake-hardware conductor."""
    cond = db_utils.create_test_conductor(hostname=HOST, drivers=[])
    from ironic.db import api as db_api
    db_api.get_instance().register_conductor_hardware_interfaces(
        cond.id, [{'hardware_type': 'fake-hardware', 'interface_type': 'boot',
                   'interface_name': 'ipxe', 'default': True}])
    hash_ring.HashRingManager().reset()
    yield
    db_api.get_instance().unregister_conductor(HOST)
    hash_ring.HashRingManager().reset()


@pytest.fixture
def overrides():
    done = []

    def set_(name, value, group=None):
        CONF.set_override(name, value, group)
        done.append((name, group))
    yield set_
    for name, group in done:
        CONF.clear_override(name, group)


def serve(transport, overrides):
    overrides('rpc_transport', transport)
    overrides('host', HOST)
    if transport == 'json-rpc':
        overrides('host_ip', HOST, bc_conf.JSON_RPC_GROUP)
        overrides('port', free_port(), bc_conf.JSON_RPC_GROUP)
        overrides('auth_strategy', 'noauth', bc_conf.JSON_RPC_GROUP)
    else:
        services.require('rabbitmq')
        # oslo.messaging registers its options when a transport is made.
        CONF.register_opts(dict(messaging_opts.list_opts())[None])
        overrides('transport_url', 'rabbit://guest:guest@127.0.0.1:5672/')
        ironic_rpc.init(CONF)
    registry = dispatch.ProviderRegistry(['ipxe'])
    svc = service.BootConfigService(HOST, manager.BootConfigManager(registry))
    svc.start()
    return svc


@pytest.mark.parametrize('transport', ['json-rpc', 'oslo'])
def test_round_trip(transport, conductor, make_node, overrides):
    node, _mac = make_node()
    script = b'#!ipxe\n# for %s\n' % node.uuid.encode()
    test_providers.write_config(node.uuid, script)
    svc = serve(transport, overrides)
    try:
        client = rpcapi.BootConfigAPI(CONF)
        ctx = ironic_context.get_admin_context()
        from ironic import objects
        node_obj = objects.Node.get_by_uuid(ctx, node.uuid)
        config, host = client.get_boot_config(ctx, node_obj, 'boot.ipxe')
        assert config == base.BootConfig(script, 'text/plain')
        assert host == HOST
        with pytest.raises(ironic_exception.NotFound,
                           match='grub.cfg is not served'):
            client.get_boot_config(ctx, node_obj, 'grub.cfg')
    finally:
        svc.stop()


@pytest.mark.parametrize('ring_host,expected', [
    ('127.0.0.2', '127.0.0.2'),
    ('127.0.0.2:18089', '127.0.0.2'),
    ('conductor-1.example.com', 'conductor-1.example.com'),
    ('conductor-1.example.com:8089', 'conductor-1.example.com'),
    ('[::1]:8089', '::1'),
    ('::1', '::1'),
])
def test_json_rpc_reaches_the_shim_port_on_the_conductor_host(
        ring_host, expected, overrides):
    overrides('rpc_transport', 'json-rpc')
    overrides('port', 9191, bc_conf.JSON_RPC_GROUP)
    call = rpcapi.BootConfigAPI(CONF)._prepare(ring_host)
    assert (call.host, call.port) == (expected, 9191)


def test_json_rpc_timeout_is_rpc_timeout(overrides):
    overrides('rpc_transport', 'json-rpc')
    overrides('rpc_timeout', 3, 'boot_config')
    rpcapi.BootConfigAPI(CONF)
    assert getattr(CONF, bc_conf.JSON_RPC_GROUP).timeout == 3


def test_none_transport_runs_the_provider_in_process(make_node, overrides):
    node, _mac = make_node()
    test_providers.write_config(node.uuid, b'#!ipxe\nlocal\n')
    overrides('rpc_transport', 'none')
    client = rpcapi.BootConfigAPI(CONF)
    config, host = client.get_boot_config(
        ironic_context.get_admin_context(), node, 'boot.ipxe')
    assert (config.body, host) == (b'#!ipxe\nlocal\n', rpcapi.LOCAL)
