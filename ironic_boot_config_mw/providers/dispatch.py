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


class ProviderRegistry:
    """The providers of the enabled boot interfaces, loaded at start-up."""

    def __init__(self, boot_interfaces):
        def fail(_manager, entrypoint, exc):
            raise exception.ProviderLoadError(name=entrypoint.name,
                                              reason=exc)

        manager = stevedore.NamedExtensionManager(
            NAMESPACE, names=list(boot_interfaces), invoke_on_load=True,
            on_load_failure_callback=fail)
        self._providers = {ext.name: ext.obj for ext in manager}
        LOG.info('Boot config providers loaded for boot interfaces: %s',
                 ', '.join(sorted(self._providers)) or 'none')

    def get(self, boot_interface):
        try:
            return self._providers[boot_interface]
        except KeyError:
            raise exception.BootConfigNotFound(
                reason='boot interface %s has neither get_boot_config nor '
                       'a provider' % boot_interface) from None


def get_boot_config(context, node_id, name, registry):
    """Produce the boot configuration ``name`` of a node.

    The boot interface's own ``get_boot_config(task, name)`` (the spec's
    driver API) wins over a registered provider.

    :raises: BootConfigNotFound (or another Ironic NotFound) when there is
        nothing to serve.
    """
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
