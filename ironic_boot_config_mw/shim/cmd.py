"""Commands run beside each ironic-conductor, with its configuration file.

``ironic-boot-config-conductor --config-file /etc/ironic/ironic.conf``
    the shim: serves ``get_boot_config`` for the conductor's nodes. When
    ``[pxe]ipxe_use_boot_config_api`` is set it first writes the root iPXE
    template, so start it before ``ironic-conductor``.

``ironic-boot-config-root-template --config-file /etc/ironic/ironic.conf``
    writes (or reverts) only the root iPXE template and exits: for the
    all-in-one ``ironic`` process (no shim) or an init container.
"""

# NOTE: first, as Ironic's own commands do: 2025.2 and newer select
# oslo.service's threading backend, 2025.1 monkey-patches eventlet.
try:
    import ironic.command  # noqa: F401,I001
except ImportError:
    import ironic.cmd  # noqa: F401

import sys

from ironic.common import service as ironic_service
from oslo_config import cfg
from oslo_log import log

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.shim import manager
from ironic_boot_config_mw.shim import root_script
from ironic_boot_config_mw.shim import service as shim_service

CONF = cfg.CONF
LOG = log.getLogger(__name__)
_START_UP_ERRORS = (cfg.Error, ValueError, OSError,
                    exception.ProviderLoadError, root_script.RootScriptError)


def main(argv=None):
    argv = sys.argv if argv is None else argv
    bc_conf.register_opts(CONF)
    ironic_service.prepare_service('ironic_boot_config_conductor', argv)
    if CONF.rpc_transport == 'none':
        sys.exit('ironic-boot-config-conductor: not needed with '
                 'rpc_transport = none: the all-in-one ironic process serves '
                 '/v1/boot itself.')
    try:
        bc_conf.validate(CONF)
        root_script.ensure_template(CONF)
        registry = dispatch.ProviderRegistry(CONF.enabled_boot_interfaces)
    except _START_UP_ERRORS as exc:
        sys.exit('ironic-boot-config-conductor: %s' % exc)

    svc = shim_service.BootConfigService(
        CONF.host, manager.BootConfigManager(registry, CONF.host))
    return shim_service.run(svc, CONF)


def write_root_template(argv=None):
    argv = sys.argv if argv is None else argv
    bc_conf.register_opts(CONF)
    ironic_service.prepare_command(argv)
    try:
        bc_conf.validate(CONF)
        path = root_script.ensure_template(CONF)
    except _START_UP_ERRORS as exc:
        sys.exit('ironic-boot-config-root-template: %s' % exc)
    print('%s %s' % (CONF.pxe.ipxe_boot_script,
                     'written' if path else 'unchanged'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
