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

"""Commands run beside each ironic-conductor, with its configuration.

``ironic-boot-config-shim --config-file /etc/ironic/ironic.conf``
    the shim: serves ``get_boot_config`` for the conductor's nodes. When
    ``[pxe]ipxe_use_boot_config_api`` or ``[boot_config]
    grub_use_boot_config_api`` is set it first writes the root iPXE
    template or the master GRUB template, so start it before
    ``ironic-conductor`` (what a conductor rendered already, Ironic renders
    again at once).
    ``ironic-boot-config-conductor`` is its deprecated former name.

``ironic-boot-config-root-configs --config-file /etc/ironic/ironic.conf``
    writes (or reverts) only the templates of the root configs and exits:
    for the all-in-one ``ironic`` process (no shim) or an init container.
    ``ironic-boot-config-root-template`` is its deprecated former name.

Both take Ironic's own command line (``--config-file``, ``--config-dir``).
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
import oslo_messaging as messaging

from ironic_boot_config_mw import conf as bc_conf
from ironic_boot_config_mw import exception
from ironic_boot_config_mw import process
from ironic_boot_config_mw import root_config
from ironic_boot_config_mw.shim import service

CONF = cfg.CONF
LOG = log.getLogger(__name__)
SHIM = 'ironic-boot-config-shim'
ROOT_CONFIGS = 'ironic-boot-config-root-configs'
_START_UP_ERRORS = (cfg.Error, ValueError, OSError,
                    messaging.MessagingException, exception.ProviderLoadError,
                    exception.RootConfigError)


def main(argv=None, deprecated_name=None):
    argv = sys.argv if argv is None else argv
    bc_conf.register_opts(CONF)
    ironic_service.prepare_service('ironic_boot_config_shim', argv)
    _warn_deprecated(deprecated_name, SHIM)
    try:
        ironic_service.ensure_rpc_transport(CONF)
    except RuntimeError as exc:
        sys.exit('%s: %s With rpc_transport = none the all-in-one ironic '
                 'process serves /v1/boot itself: no shim is needed.'
                 % (SHIM, exc))
    try:
        inherited = bc_conf.inherit_json_rpc(CONF)
        bc_conf.validate(CONF)
        bc_conf.check_shim_auth(CONF)
        _log_security(inherited)
        root_config.ensure_all(CONF)
        svc = service.ShimRPCService(CONF.host)
        svc.start()
    except _START_UP_ERRORS as exc:
        sys.exit('%s: %s' % (SHIM, exc))
    return process.serve(svc, CONF)


def _log_security(inherited):
    """How the shim's JSON-RPC authenticates and encrypts, and which of it
    came from [json_rpc] (names only: some are secrets)."""
    if CONF.rpc_transport != 'json-rpc':
        return
    group = getattr(CONF, bc_conf.JSON_RPC_GROUP)
    tls = 'TLS' if group.use_ssl else 'no TLS'
    if group.use_ssl and getattr(group, 'server_tls_minimum_version', None):
        tls += ' %s+' % group.server_tls_minimum_version
    LOG.info('Boot config shim JSON-RPC: auth strategy %(auth)s, %(tls)s; '
             'taken from [json_rpc]: %(inherited)s',
             {'auth': bc_conf.json_rpc_auth_strategy(CONF), 'tls': tls,
              'inherited': ', '.join(inherited) or 'nothing'})


def _warn_deprecated(deprecated_name, name):
    if deprecated_name:
        LOG.warning('%s is deprecated and will be removed in a future '
                    'release: run %s, the same program.', deprecated_name,
                    name)


def deprecated_main():
    """``ironic-boot-config-conductor``: the shim's former name."""
    return main(deprecated_name='ironic-boot-config-conductor')


def deprecated_write_root_template():
    """``ironic-boot-config-root-template``: the former name of
    ``ironic-boot-config-root-configs``."""
    return write_root_configs(
        deprecated_name='ironic-boot-config-root-template')


def write_root_configs(argv=None, deprecated_name=None):
    argv = sys.argv if argv is None else argv
    bc_conf.register_opts(CONF)
    ironic_service.prepare_command(argv)
    _warn_deprecated(deprecated_name, ROOT_CONFIGS)
    try:
        bc_conf.validate(CONF)
        written = [(rc, rc.ensure(CONF)) for rc in root_config.ROOT_CONFIGS]
    except _START_UP_ERRORS as exc:
        sys.exit('%s: %s' % (ROOT_CONFIGS, exc))
    for rc, path in written:
        if path or rc.enabled(CONF):
            print('%s %s' % (getattr(CONF.pxe, rc.template_option),
                             'written' if path else 'unchanged'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
