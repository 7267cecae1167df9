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

"""The conductor side of a request: shared task -> provider -> BootConfig.

It runs in the shim beside each conductor, in the boot API process or in
the all-in-one ``ironic`` process when ``rpc_transport = none``.

None of these may render Ironic's root configs: the first time a process
builds a node's driver, Ironic instantiates every enabled boot interface,
and ``iPXEBoot()``, ``PXEBoot()`` and ``HttpBoot()`` render the root
``boot.ipxe`` and the master ``grub.cfg`` into that process's roots from
that process's ``[pxe]`` templates, which need not link to the API (the
boot API process beside an all-in-one, a shim told not to link). So
providers get a task without a driver, and a process without a conductor
instantiates the boot interfaces once, at start-up, into a private
directory (:func:`instantiate_boot_interfaces`), for the native
``get_boot_config`` ones only.
"""

import contextlib
import tempfile

from ironic.common import driver_factory
from ironic.common import exception as ironic_exception
from ironic.conductor import task_manager
from oslo_config import cfg
from oslo_log import log
import stevedore

from ironic_boot_config_mw import exception
from ironic_boot_config_mw import process
from ironic_boot_config_mw.providers import base

LOG = log.getLogger(__name__)

#: Entry point namespace of providers, each named after a boot interface.
NAMESPACE = 'ironic_boot_config_mw.providers'
#: Ironic's namespace of boot interfaces.
BOOT_INTERFACES = 'ironic.hardware.interfaces.boot'


class ProviderRegistry:
    """The providers of the enabled boot interfaces, loaded at start-up,
    and which of those interfaces implement ``get_boot_config`` natively."""

    def __init__(self, boot_interfaces):
        def fail(_manager, entrypoint, exc):
            raise exception.ProviderLoadError(name=entrypoint.name,
                                              reason=exc)

        names = list(boot_interfaces)
        manager = stevedore.NamedExtensionManager(
            NAMESPACE, names=names, invoke_on_load=True,
            on_load_failure_callback=fail)
        self._providers = {ext.name: ext.obj for ext in manager}
        # The classes only (Ironic instantiates them): a native
        # get_boot_config needs its task, whatever the provider says.
        interfaces = stevedore.NamedExtensionManager(
            BOOT_INTERFACES, names=names, invoke_on_load=False)
        self._native = {ext.name for ext in interfaces
                        if hasattr(ext.plugin, 'get_boot_config')}
        if self._native and not process.conductor_in_process():
            instantiate_boot_interfaces(cfg.CONF)
        LOG.info('Boot config providers loaded for boot interfaces: %s; '
                 'native get_boot_config: %s',
                 ', '.join(sorted(self._providers)) or 'none',
                 ', '.join(sorted(self._native)) or 'none')

    def status(self):
        """What this registry serves: for ``ping``."""
        return {'providers': sorted(self._providers),
                'native': sorted(self._native)}

    def is_native(self, boot_interface):
        return boot_interface in self._native

    def get(self, boot_interface):
        try:
            return self._providers[boot_interface]
        except KeyError:
            raise exception.BootConfigNotFound(
                reason='boot interface %s has neither get_boot_config nor '
                       'a provider' % boot_interface) from None

    def file_provider(self, boot_interface):
        """The provider serving files the conductor wrote, or None."""
        provider = self._providers.get(boot_interface)
        if (boot_interface in self._native
                or not isinstance(provider, base.FileProvider)):
            return None
        return provider

    def without_task(self, boot_interface):
        """The provider to call without a task, or None."""
        provider = self._providers.get(boot_interface)
        if (provider is None or provider.needs_task
                or boot_interface in self._native):
            return None
        return provider


def get_boot_config(context, node_id, name, registry, boot_interface=None,
                    takeover=None):
    """Produce the boot configuration ``name`` of a node.

    The boot interface's own ``get_boot_config(task, name)`` (the spec's
    driver API) wins over a registered provider. A provider that needs no
    task is called without one when the caller knows the node's boot
    interface (the API read it with the node); otherwise a SHARED task is
    taken, as the spec says.

    ``takeover``: this host's :class:`~ironic_boot_config_mw.takeover.
    Takeover`, which refuses a file that is not current and is told of
    every miss.

    :raises: BootConfigNotFound (or another Ironic NotFound) when there is
        nothing to serve.
    """
    try:
        config = _produce(context, node_id, name, registry, boot_interface)
        if takeover is not None:
            takeover.check(node_id, config)
    except ironic_exception.NotFound:
        if takeover is not None:
            takeover.missed(node_id)
        raise
    return config


def _produce(context, node_id, name, registry, boot_interface):
    provider = registry.without_task(boot_interface)
    if provider is not None:
        return provider.get_boot_config(
            base.WithoutTask(base.NodeIdentity(node_id, boot_interface)), name)
    if boot_interface is not None and not registry.is_native(boot_interface):
        registry.get(boot_interface)  # no provider: no task either

    # No driver: building one renders the root configs (module docstring).
    with task_manager.acquire(context, node_id, shared=True,
                              purpose='get boot config',
                              load_driver=False) as task:
        if not registry.is_native(task.node.boot_interface):
            provider = registry.get(task.node.boot_interface)
            return provider.get_boot_config(task, name)
        task.load_driver()
        try:
            return as_boot_config(task.driver.boot.get_boot_config(task,
                                                                   name))
        except ironic_exception.UnsupportedDriverExtension as exc:
            raise exception.BootConfigNotFound(reason=str(exc)) from None


def instantiate_boot_interfaces(conf):
    """Instantiate the enabled boot interfaces with this process's roots
    pointed at a private directory, removed after.

    Ironic keeps the instances for the life of the process, so later
    drivers (of native ``get_boot_config`` interfaces) render nothing.
    Start-up only: the overrides hold for the whole process meanwhile.
    """
    with tempfile.TemporaryDirectory(prefix='ironic-boot-config-') as root, \
            contextlib.ExitStack() as restore:
        for option, group in (('http_root', 'deploy'),
                              ('tftp_root', 'pxe')):
            # The value it had, as an override: an earlier override of
            # the root (a test's) must survive this.
            restore.callback(conf.set_override, option,
                             getattr(getattr(conf, group), option), group)
            conf.set_override(option, root, group)
        driver_factory.interfaces('boot')


def as_boot_config(result):
    """Accept what a native ``get_boot_config`` may return."""
    if isinstance(result, base.BootConfig):
        return result
    if isinstance(result, str):
        result = result.encode('utf-8')
    if isinstance(result, bytes):
        return base.BootConfig(body=result)
    raise TypeError('get_boot_config returned %s, expected BootConfig, '
                    'bytes or str' % type(result).__name__)
