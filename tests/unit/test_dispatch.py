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

"""providers/dispatch.py: the registry of providers, a boot interface's own
get_boot_config, tasks, and nothing of ours rendering Ironic's root configs."""

import contextlib
import os
import types

from ironic.common import context as ironic_context
from ironic.common import exception as ironic_exception
from ironic.conf import CONF
import pytest
import stevedore

from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import base
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.providers import ipxe
from tests.unit import fakes


def test_registry_loads_shipped_providers(registry):
    assert isinstance(registry.get('ipxe'), ipxe.IPXEProvider)
    assert isinstance(registry.get('http-ipxe'), ipxe.IPXEProvider)
    with pytest.raises(exception.BootConfigNotFound, match='fake has neither'):
        registry.get('fake')


def test_ipxe_serves_the_conductors_script(make_node, registry):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid, b'#!ipxe\nkernel http://me/k\n')
    config = dispatch.get_boot_config(ironic_context.get_admin_context(),
                                      node.uuid, 'boot.ipxe', registry)
    assert config[:2] == (b'#!ipxe\nkernel http://me/k\n', 'text/plain')
    assert config.written_at == os.stat(
        os.path.join(CONF.deploy.http_root, node.uuid, 'config')).st_mtime


def test_ipxe_other_names_not_found(make_node, registry):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid)
    for name in ('grub.cfg', 'config', 'boot.ipxe.bak'):
        with pytest.raises(exception.BootConfigNotFound,
                           match='not served for boot interface ipxe'):
            dispatch.get_boot_config(ironic_context.get_admin_context(),
                                     node.uuid, name, registry)


def test_ipxe_missing_script(make_node, registry):
    node, _mac = make_node()
    with pytest.raises(exception.BootConfigNotFound, match='does not exist'):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 node.uuid, 'boot.ipxe', registry)


def test_boot_interface_without_provider(make_node, registry):
    node, _mac = make_node(boot_interface='fake')
    with pytest.raises(exception.BootConfigNotFound, match='fake has neither'):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 node.uuid, 'boot.ipxe', registry)


def test_unknown_node(ironic_db, registry):
    with pytest.raises(ironic_exception.NodeNotFound):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 '1be26c0b-03f2-4d2e-ae87-c02d7f33c781',
                                 'boot.ipxe', registry)


def test_ipxe_is_served_without_a_task(make_node, registry, monkeypatch):
    """The API passes the boot interface it read: no lock, no DB, no driver."""
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid, b'#!ipxe\nno task\n')

    def no_task(*args, **kwargs):
        raise AssertionError('a task was taken')

    monkeypatch.setattr(dispatch.task_manager, 'acquire', no_task)
    config = dispatch.get_boot_config(None, node.uuid, 'boot.ipxe', registry,
                                      boot_interface='ipxe')
    assert config.body == b'#!ipxe\nno task\n'


def test_without_task_only_for_providers_that_say_so(registry):
    assert isinstance(registry.without_task('ipxe'), ipxe.IPXEProvider)
    assert isinstance(registry.without_task('http-ipxe'), ipxe.IPXEProvider)
    assert registry.without_task('fake') is None        # no provider
    assert registry.without_task(None) is None          # API did not say
    grub_registry = dispatch.ProviderRegistry(['pxe', 'http'])
    assert grub_registry.without_task('pxe') is None    # GRUB needs the node


def test_task_is_shared(make_node, registry, monkeypatch):
    node, _mac = make_node()
    fakes.write_ipxe_config(node.uuid)
    seen = []
    real_acquire = dispatch.task_manager.acquire

    def acquire(context, node_id, **kwargs):
        seen.append(kwargs)
        return real_acquire(context, node_id, **kwargs)

    monkeypatch.setattr(dispatch.task_manager, 'acquire', acquire)
    dispatch.get_boot_config(ironic_context.get_admin_context(), node.uuid,
                             'boot.ipxe', registry)
    assert seen[0]['shared'] is True


# -- a boot interface with its own get_boot_config wins --------------------

class FakeTask:
    """A shared task without a driver until ``load_driver()``."""

    def __init__(self, boot):
        self._boot = boot
        self.driver = None
        self.node = types.SimpleNamespace(uuid='u', boot_interface='ipxe',
                                          driver='fake-hardware')

    def load_driver(self):
        self.driver = types.SimpleNamespace(boot=self._boot)


@pytest.fixture
def with_task(monkeypatch, registry):
    """``ipxe`` as a native interface whose task returns ``boot``."""
    def use(boot):
        @contextlib.contextmanager
        def acquire(context, node_id, shared, purpose, load_driver):
            assert shared and not load_driver
            yield FakeTask(boot)
        monkeypatch.setattr(dispatch.task_manager, 'acquire', acquire)
        monkeypatch.setattr(registry, '_native', {'ipxe'})
    return use


class NativeBoot:
    def __init__(self, result):
        self.result = result

    def get_boot_config(self, task, name):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.mark.parametrize('result,expected', [
    (base.BootConfig(b'x', 'text/x-grub'), base.BootConfig(b'x',
                                                           'text/x-grub')),
    (b'bytes', base.BootConfig(b'bytes')),
    ('str \u00e9', base.BootConfig('str \u00e9'.encode())),
])
def test_native_get_boot_config_wins(with_task, registry, result, expected):
    with_task(NativeBoot(result))
    assert dispatch.get_boot_config(None, 'u', 'boot.ipxe',
                                    registry) == expected


def test_native_unsupported_is_not_found(with_task, registry):
    with_task(NativeBoot(ironic_exception.UnsupportedDriverExtension(
        driver='fake-hardware', extension='get_boot_config')))
    with pytest.raises(exception.BootConfigNotFound,
                       match='does not support get_boot_config'):
        dispatch.get_boot_config(None, 'u', 'boot.ipxe', registry)


def test_native_bad_return_type(with_task, registry):
    with_task(NativeBoot(42))
    with pytest.raises(TypeError):
        dispatch.get_boot_config(None, 'u', 'boot.ipxe', registry)


def test_provider_load_failure_is_clear(tmp_path, monkeypatch):
    """A provider whose module is missing stops start-up with its name."""
    dist = tmp_path / 'broken_provider-1.0.dist-info'
    dist.mkdir()
    (dist / 'METADATA').write_text('Name: broken-provider\nVersion: 1.0\n')
    (dist / 'entry_points.txt').write_text(
        '[ironic_boot_config_mw.providers]\n'
        'broken = no_such_module_here:Provider\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore remembers a namespace's entry points per process.
    monkeypatch.setattr(stevedore.ExtensionManager, 'ENTRY_POINT_CACHE', {},
                        raising=False)
    with pytest.raises(exception.ProviderLoadError,
                       match="provider broken: No module named "
                             "'no_such_module_here'"):
        dispatch.ProviderRegistry(['ipxe', 'broken'])


# -- nothing of ours renders Ironic's root configs -------------------------

@pytest.fixture
def fresh_boot_interfaces(monkeypatch, overrides, tmp_path):
    """A process that never built a driver: Ironic's boot interfaces not
    yet instantiated; roots whose root configs link (as the conductor
    rendered them); this process's templates Ironic's stock ones."""
    from ironic.common import driver_factory
    factory = driver_factory._INTERFACE_LOADERS['boot']
    monkeypatch.setattr(factory, '_extension_manager', None)
    http_root, tftp_root = tmp_path / 'http', tmp_path / 'tftp'
    (tftp_root / 'grub').mkdir(parents=True)
    (http_root / 'grub').mkdir(parents=True)
    overrides('http_root', str(http_root), 'deploy')
    overrides('tftp_root', str(tftp_root), 'pxe')
    linked = {http_root / 'boot.ipxe': '#!ipxe\nchain .../v1/boot/\n',
              http_root / 'grub' / 'grub.cfg': 'configfile (http,a)/v1/boot',
              tftp_root / 'grub' / 'grub.cfg': 'configfile (http,a)/v1/boot'}
    for path, text in linked.items():
        path.write_text(text)
    return linked


def unchanged(linked):
    return {path: path.read_text() for path in linked} == linked


@pytest.mark.parametrize('boot_interface', ['pxe', 'http', 'fake', None])
def test_providers_and_refusals_render_nothing(fresh_boot_interfaces,
                                               make_node, boot_interface):
    """GRUB (a task), a providerless interface, an API that did not say
    the interface (RPC 1.0): no driver is built, nothing is rendered."""
    registry = dispatch.ProviderRegistry(['fake', 'ipxe', 'pxe', 'http'])
    node, _mac = make_node(boot_interface=boot_interface or 'pxe',
                           provision_state='clean wait')
    with pytest.raises(ironic_exception.NotFound):
        dispatch.get_boot_config(ironic_context.get_admin_context(),
                                 node.uuid, 'grub.cfg', registry,
                                 boot_interface=boot_interface)
    assert unchanged(fresh_boot_interfaces)


def test_a_driver_built_after_start_up_renders_nothing(
        fresh_boot_interfaces, make_node):
    """What a process with a native interface does at start-up: the
    renders go to a private directory, gone after; the instances stay,
    so the drivers built later for requests render nothing either."""
    from ironic.conductor import task_manager
    http_root = CONF.deploy.http_root
    dispatch.instantiate_boot_interfaces(CONF)
    assert unchanged(fresh_boot_interfaces)
    assert CONF.deploy.http_root == http_root   # restored
    node, _mac = make_node(boot_interface='ipxe')
    with task_manager.acquire(ironic_context.get_admin_context(), node.uuid,
                              shared=True) as task:
        assert task.driver.boot is not None
    assert unchanged(fresh_boot_interfaces)


def test_building_a_driver_renders_without_the_guard(fresh_boot_interfaces,
                                                     make_node):
    """The hazard itself, so that the tests above can fail."""
    from ironic.conductor import task_manager
    node, _mac = make_node(boot_interface='ipxe')
    with task_manager.acquire(ironic_context.get_admin_context(), node.uuid,
                              shared=True):
        pass
    assert not unchanged(fresh_boot_interfaces)
