import logging

from ironic.common import exception as ironic_exception
import pytest

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import rpc
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.shim import manager


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

    def refuse(context, node_id, name, registry, boot_interface):
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
