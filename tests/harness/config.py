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

"""The ``ironic.conf`` of each process of a cluster.

One function says what every process shares and what each conductor host
adds; tests add their own sections through ``ClusterSpec.extra_conf`` or
per-process ``overrides``.
"""

import configparser
import os

from oslo_utils import netutils

#: Fake hardware only: real interfaces would look for ipmitool and the like.
_FAKE_HARDWARE = {
    'enabled_hardware_types': 'fake-hardware',
    'enabled_boot_interfaces': 'fake,ipxe,http-ipxe',
    'enabled_deploy_interfaces': 'fake,direct',
    'enabled_network_interfaces': 'noop',
    'enabled_power_interfaces': 'fake',
    'enabled_management_interfaces': 'fake',
    'enabled_vendor_interfaces': 'no-vendor,fake',
    'enabled_console_interfaces': 'no-console',
    'enabled_inspect_interfaces': 'no-inspect',
    'enabled_raid_interfaces': 'no-raid,fake',
    'enabled_bios_interfaces': 'no-bios,fake',
    'default_boot_interface': 'ipxe',
    'default_deploy_interface': 'direct',
}


def ironic_conf(cluster, conductor=None, overrides=None):
    """``{section: {option: value}}`` for a process of ``cluster``: the API
    (``conductor`` None) or the conductor, all-in-one or shim on
    ``conductor`` (a :class:`~tests.harness.spec.Conductor`)."""
    spec = cluster.spec
    conf = {
        'DEFAULT': dict(_FAKE_HARDWARE, auth_strategy=spec.auth_strategy,
                        rpc_transport=spec.rpc_transport, use_stderr='true'),
        'database': {'connection': cluster.db.url},
        'dhcp': {'dhcp_provider': 'none'},
        'conductor': {'automated_clean': 'true',
                      'file_url_allowed_paths': cluster.images,
                      'heartbeat_interval': '2'},
        'service_catalog': {'endpoint_override': cluster.api_url},
        'api': {'host_ip': spec.api_host_ip or cluster.api_host,
                'port': str(cluster.api_port), 'api_workers': '1'},
        'json_rpc': {'auth_strategy': 'noauth'},
        # The shims' auth and TLS: [json_rpc]'s, unless a test sets theirs.
        'boot_config_json_rpc': {'port': str(cluster.shim_port)},
        'oslo_concurrency': {'lock_path': os.path.join(cluster.workdir,
                                                       'locks')},
    }
    if spec.auth_strategy == 'http_basic':
        conf['DEFAULT']['http_basic_auth_user_file'] = cluster.htpasswd
    if spec.api_unix_socket:
        # Metal3's mode: a proxy in another container writes to it.
        conf['api'].update(unix_socket=cluster.api_socket(conductor),
                           unix_socket_mode='0666')
    if spec.middleware and cluster.api_server == 'ironic-api':
        conf['api']['middleware'] = 'boot_config'
    if conductor is not None:
        _conductor_host(conf, cluster, conductor)
    for extra in (spec.extra_conf, overrides or {}):
        for section, values in extra.items():
            conf.setdefault(section, {}).update(values)
    return conf


def _conductor_host(conf, cluster, c):
    conf['DEFAULT']['host'] = c.host
    # Ironic's default is its own package directory.
    conf['DEFAULT']['state_path'] = os.path.join(cluster.workdir,
                                                 'state-%d' % c.index)
    conf['json_rpc'].update(host_ip=c.host, port=str(c.json_rpc_port))
    conf['boot_config_json_rpc']['host_ip'] = c.host
    conf['deploy'] = {'http_root': c.http_root, 'http_url': c.http_url}
    if cluster.spec.api_per_host:
        conf['api']['host_ip'] = cluster.spec.api_host_ip or c.host
        conf['service_catalog']['endpoint_override'] = cluster.api_url_of(
            c.host)
    conf['pxe'] = {
        'tftp_root': c.tftp_root,
        'tftp_server': c.host,
        'tftp_master_path': os.path.join(c.tftp_root, 'master'),
        'instance_master_path': os.path.join(c.http_root, 'master_images')}
    if cluster.spec.linux:
        # Ironic's default, then what tells the booted kernel's owner.
        conf['pxe']['kernel_append_params'] = (
            'nofb vga=normal console=%s ibc.conductor=%s'
            % (cluster.spec.linux, c.host))
    # A shim writes the templates for its conductor. The all-in-one ironic
    # without one needs nothing else: its filter links.
    shim = cluster.spec.rpc_transport != 'none'
    if cluster.spec.boot_config_api or cluster.spec.grub_boot_config_api:
        conf['pxe']['ipxe_config_api_root_url'] = 'http://%s:%d' % (
            netutils.escape_ipv6(cluster.spec.http_host), cluster.api_port)
    if cluster.spec.boot_config_api:
        conf['pxe']['ipxe_use_boot_config_api'] = 'true'
        if shim:
            conf['pxe']['ipxe_boot_script'] = c.template
    if cluster.spec.grub_boot_config_api:
        conf.setdefault('boot_config', {})['grub_use_boot_config_api'] = \
            'true'
        if shim:
            conf['pxe']['initial_grub_template'] = c.grub_template


def every_wait_state(extra_conf=None):
    """The ``extra_conf`` for nodes in every wait state (the client's
    ``to_wait_state``), merged under ``extra_conf`` (a test's own, which
    wins): the agent inspect and rescue interfaces enabled, and no callback
    timeout, so nodes stay in ``* wait``. Opt-in: ``launch(...,
    extra_conf=config.every_wait_state({...}))``."""
    ours = {
        'DEFAULT': {
            'enabled_inspect_interfaces': 'no-inspect,agent',
            'enabled_rescue_interfaces': 'no-rescue,agent',
        },
        'conductor': {option: '0' for option in (
            'clean_callback_timeout', 'deploy_callback_timeout',
            'inspect_wait_timeout', 'rescue_callback_timeout',
            'service_callback_timeout')},
    }
    for section, values in (extra_conf or {}).items():
        ours.setdefault(section, {}).update(values)
    return ours


def write(path, conf):
    """Write ``{section: {option: value}}`` as an ini file at ``path``."""
    parser = configparser.ConfigParser(interpolation=None)
    for section, values in conf.items():
        if section != 'DEFAULT':
            parser.add_section(section)
        for key, value in values.items():
            parser.set(section, key, str(value))
    with open(path, 'w') as f:
        parser.write(f)
    return path
