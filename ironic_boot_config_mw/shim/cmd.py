"""``ironic-boot-config-conductor``: the shim beside each ironic-conductor.

Run it with the conductor's own configuration file::

    ironic-boot-config-conductor --config-file /etc/ironic/ironic.conf
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
from oslo_service import service

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import exception
from ironic_boot_config_mw.providers import dispatch
from ironic_boot_config_mw.shim import manager
from ironic_boot_config_mw.shim import service as shim_service

CONF = cfg.CONF
LOG = log.getLogger(__name__)


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
        registry = dispatch.ProviderRegistry(CONF.enabled_boot_interfaces)
    except (cfg.Error, ValueError, exception.ProviderLoadError) as exc:
        sys.exit('ironic-boot-config-conductor: %s' % exc)

    svc = shim_service.BootConfigService(
        CONF.host, manager.BootConfigManager(registry))
    launcher = service.launch(CONF, svc, restart_method='mutate')
    return launcher.wait()


if __name__ == '__main__':
    sys.exit(main())
