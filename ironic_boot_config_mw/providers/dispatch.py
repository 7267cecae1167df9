"""The conductor side of a request: shared task -> provider -> BootConfig.

It runs in the shim beside each conductor, or in the all-in-one ``ironic``
process when ``rpc_transport = none``.
"""

from ironic.common import exception as ironic_exception
from ironic.conductor import task_manager
from oslo_log import log
import stevedore

from ironic_boot_config_mw import exception
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
        LOG.info('Boot config providers loaded for boot interfaces: %s; '
                 'native get_boot_config: %s',
                 ', '.join(sorted(self._providers)) or 'none',
                 ', '.join(sorted(self._native)) or 'none')

    def status(self):
        """What this registry serves: for ``ping``."""
        return {'providers': sorted(self._providers),
                'native': sorted(self._native)}

    def get(self, boot_interface):
        try:
            return self._providers[boot_interface]
        except KeyError:
            raise exception.BootConfigNotFound(
                reason='boot interface %s has neither get_boot_config nor '
                       'a provider' % boot_interface) from None

    def without_task(self, boot_interface):
        """The provider to call without a task, or None."""
        provider = self._providers.get(boot_interface)
        if (provider is None or provider.needs_task
                or boot_interface in self._native):
            return None
        return provider


def get_boot_config(context, node_id, name, registry, boot_interface=None):
    """Produce the boot configuration ``name`` of a node.

    The boot interface's own ``get_boot_config(task, name)`` (the spec's
    driver API) wins over a registered provider. A provider that needs no
    task is called without one when the caller knows the node's boot
    interface (the API read it with the node); otherwise a SHARED task is
    taken, as the spec says.

    :raises: BootConfigNotFound (or another Ironic NotFound) when there is
        nothing to serve.
    """
    provider = registry.without_task(boot_interface)
    if provider is not None:
        return provider.get_boot_config(
            base.WithoutTask(base.NodeIdentity(node_id, boot_interface)), name)

    with task_manager.acquire(context, node_id, shared=True,
                              purpose='get boot config') as task:
        native = getattr(task.driver.boot, 'get_boot_config', None)
        if native is None:
            provider = registry.get(task.node.boot_interface)
            return provider.get_boot_config(task, name)
        try:
            return as_boot_config(native(task, name))
        except ironic_exception.UnsupportedDriverExtension as exc:
            raise exception.BootConfigNotFound(reason=str(exc)) from None


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
