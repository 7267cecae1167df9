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

"""Configuration options of the Boot configuration API.

All options live on Ironic's own ``CONF``; the same ``ironic.conf`` file
configures ``ironic-api``, ``ironic-conductor`` and the shim. The option names
are the ones of Ironic's approved spec "Boot configuration API", so a future
in-tree implementation can take them over unchanged.
"""

import copy
import inspect
import ipaddress

from ironic.common import keystone
from ironic.conf import api as ironic_api
from ironic.conf import json_rpc as ironic_json_rpc
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log

LOG = log.getLogger(__name__)

#: Option group of the shim's JSON-RPC server and of the API's client for it.
JSON_RPC_GROUP = 'boot_config_json_rpc'
#: The shim listens here unless ``[boot_config_json_rpc]port`` says otherwise.
JSON_RPC_DEFAULT_PORT = 8091
#: What ``[boot_config_json_rpc]`` takes from ``[json_rpc]`` unless set
#: itself: how Ironic's JSON-RPC authenticates and encrypts, server and
#: client side (with the options of keystoneauth's http_basic plugin and of
#: the plugin ``[json_rpc]auth_type`` names). Never where the shim listens
#: (host_ip, port, unix_socket*) nor how long a call may take (timeout).
JSON_RPC_INHERITED = (
    'auth_strategy', 'http_basic_auth_user_file', 'allowed_roles',
    'use_ssl', 'cert_file', 'key_file', 'server_tls_minimum_version',
    'server_tls_ciphers', 'client_use_ssl',
    # Ironic 2025.1 to 2026.1: the client's deprecated credentials.
    'http_basic_username', 'http_basic_password',
    # keystoneauth: the plugin and the session's TLS.
    'auth_type', 'auth_section', 'cafile', 'certfile', 'keyfile', 'insecure',
    'tls_min_version', 'tls_ciphers',
)
JSON_RPC_HELP = (
    'The boot config shim\'s JSON-RPC server, beside each conductor, and '
    'the API\'s client for it. Authentication, credentials and TLS '
    '(auth_strategy, http_basic_auth_user_file, allowed_roles, use_ssl, '
    'cert_file, key_file, server_tls_*, client_use_ssl, auth_type, '
    'username, password, cafile, certfile, keyfile, insecure) default to '
    '[json_rpc]\'s: set them here only where the shims differ from Ironic\'s '
    'JSON-RPC. host_ip, port, unix_socket and timeout are the shim\'s own. '
    'A shim without authentication on a host_ip other than loopback refuses '
    'to start while [json_rpc] authenticates.')
#: Option group of the boot API process, ``ironic-boot-config-api``.
BOOT_API_GROUP = 'boot_config_api'
#: Its port: none of Ironic (6385, JSON-RPC 8089), Metal3's ironic-image
#: (6180, 6183, 6189, 5050) or Bifrost (8080, 5050) uses it.
BOOT_API_DEFAULT_PORT = 6390
#: Rounds the root configs ask the API again after the first before Ironic's
#: stock part, and the seconds between rounds: together they should outlast a
#: takeover (the new owner of a dead conductor's nodes writes their boot files
#: a few seconds after the hash ring moves them).
ROOT_CONFIG_RETRIES = 3
ROOT_CONFIG_RETRY_DELAY = 5

api_opts = [
    cfg.BoolOpt('restrict_boot_config',
                default=True,
                help='Serve /v1/boot only for nodes waiting to boot (a "* '
                     'wait" provision state), and with fast track where '
                     'Ironic\'s /v1/lookup answers.'),
]

pxe_opts = [
    cfg.BoolOpt('ipxe_use_boot_config_api',
                default=False,
                help='If True, the root iPXE script (boot.ipxe) links to the '
                     'boot configuration API instead of the HTTP server.'),
    cfg.URIOpt('ipxe_config_api_root_url',
               schemes=['http', 'https'],
               help='Root URL used in links to the boot configuration API, '
                    'e.g. a plain-HTTP proxy in front of a TLS-only API '
                    '(iPXE cannot use custom CA certificates). Defaults to '
                    'the API URL the conductor knows.'),
]

boot_config_opts = [
    cfg.BoolOpt('grub_use_boot_config_api',
                default=False,
                help='Have the master GRUB config Ironic renders from '
                     '[pxe]initial_grub_template ask the API for the node\'s '
                     'grub.cfg first, then go on as Ironic\'s stock one.'),
    cfg.URIOpt('grub_config_api_root_url',
               schemes=['http'],
               help='Root URL used in the master GRUB config\'s link to the '
                    'boot configuration API; plain HTTP, the only scheme '
                    'GRUB fetches. Defaults to [pxe]'
                    'ipxe_config_api_root_url, else the API URL the '
                    'conductor knows.'),
    cfg.IntOpt('root_config_retries',
               default=ROOT_CONFIG_RETRIES, min=0, max=20,
               deprecated_name='root_script_retries',
               help='Rounds the root configs ask the API again before '
                    'Ironic\'s stock part, so that a machine asking during a '
                    'takeover is served a moment later. 0: ask once.'),
    cfg.IntOpt('root_config_retry_delay',
               default=ROOT_CONFIG_RETRY_DELAY, min=1, max=60,
               deprecated_name='root_script_retry_delay',
               help='Seconds the root configs wait between two rounds of '
                    'root_config_retries (iPXE\'s and GRUB\'s sleep).'),
    cfg.IntOpt('rpc_timeout',
               default=10, min=1, max=300,
               help='Seconds the API waits for the owning conductor\'s shim '
                    'to answer get_boot_config. iPXE gives up on slow '
                    'answers, and a stuck request must not pin an API '
                    'server thread.'),
    cfg.FloatOpt('rpc_connect_timeout',
                 default=1.0, min=0.01, max=300,
                 help='Seconds the API waits to connect to a shim, and how '
                      'long a call may be pending before the shim counts as '
                      'hung and its other calls fail at once.'),
    cfg.FloatOpt('shim_retry_interval',
                 default=2.0, min=0.1, max=600,
                 help='Seconds between trial calls to a shim whose last call '
                      'failed; meanwhile its nodes\' requests get the generic '
                      '404 at once.'),
    cfg.FloatOpt('takeover_interval',
                 default=2.0, min=0, max=600,
                 help='Seconds between the shim\'s scans of Ironic\'s hash '
                      'ring, which prepare the boot files of waiting nodes '
                      'its conductor gained. 0: off.'),
    cfg.ListOpt('allowed_source_cidrs',
                default=[],
                help='Networks (CIDR) whose machines may use /v1/boot, e.g. '
                     'the provisioning network. Others get the generic 404 '
                     'before anything touches the database. Empty: any '
                     'source. The source is the TCP peer, or behind a '
                     'proxy what trusted_proxies allow.'),
    cfg.ListOpt('trusted_proxies',
                default=[],
                help='Networks (CIDR) of the proxies whose X-Forwarded-For or '
                     'Forwarded header names the machine, with '
                     '[oslo_middleware]enable_proxy_headers_parsing.'),
    cfg.FloatOpt('rate_limit',
                 default=0, min=0,
                 help='Requests per second allowed to each source address '
                      '(token bucket); beyond it the generic 404 (never '
                      '429: iPXE would retry). 0 disables the limit.'),
    cfg.IntOpt('rate_limit_burst',
               default=20, min=1,
               help='Requests a source may send at once before rate_limit '
                    'applies: a machine with several NICs asks once per NIC.'),
    cfg.IntOpt('rate_limit_sources',
               default=4096, min=1,
               help='Sources the rate limiter remembers; the least recently '
                    'seen is forgotten first. Bounds its memory.'),
    cfg.IntOpt('max_concurrent_requests',
               default=2, min=0,
               help='/v1/boot requests one API process serves at once, so '
                    'that a boot storm or a slow conductor can take '
                    'neither the server\'s threads (10 with cheroot) nor, '
                    'in effect, its CPU from the authenticated API. More '
                    'wait for a slot (max_concurrent_wait). 0: no cap.'),
    cfg.FloatOpt('max_concurrent_wait',
                 default=1.0, min=0, max=60,
                 help='Seconds a /v1/boot request beyond '
                      'max_concurrent_requests waits for a slot before the '
                      'generic 404. 0: refuse at once.'),
    cfg.BoolOpt('record_served',
                default=True,
                help='Record each boot configuration served in the node\'s '
                     'history (baremetal node history list), written by a '
                     'background thread, never by the request. Ironic\'s '
                     '[conductor]node_history switches it off too.'),
    cfg.IntOpt('record_served_interval',
               default=60, min=0,
               help='Seconds after which a node served the same '
                    'configuration again by the same process is recorded '
                    'again; a new name, owner or body is recorded at once. '
                    '0: only changes.'),
    cfg.BoolOpt('health_shims',
                default=True,
                help='Whether the unauthenticated /health and /metrics of '
                     'ironic-boot-config-api name the conductors\' shims by '
                     'host.'),
]


def boot_api_opts():
    """``[boot_config_api]``: Ironic's own listener options ([api]host_ip,
    port, unix_socket, unix_socket_mode) with this process's defaults, and
    the server's size."""
    listener = {opt.dest: copy.deepcopy(opt) for opt in ironic_api.opts
                if opt.dest in ('host_ip', 'port', 'unix_socket',
                                'unix_socket_mode')}
    listener['host_ip'].help = ('The IP address on which '
                                'ironic-boot-config-api listens.')
    listener['port'].default = BOOT_API_DEFAULT_PORT
    listener['port'].help = 'The TCP port of ironic-boot-config-api.'
    return list(listener.values()) + [
        cfg.IntOpt('threads',
                   default=64, min=1, max=1024,
                   help='Requests served at once. Each waits mostly on the '
                        'database and the shim, not on CPU; the database '
                        'connections they share are [database]'
                        'max_pool_size.'),
        cfg.BoolOpt('metrics',
                    default=True,
                    help='Serve GET /metrics: the Prometheus text format '
                         '(no node data; the conductors\' hosts only with '
                         '[boot_config]health_shims).'),
        cfg.IntOpt('backlog',
                   default=1024, min=1,
                   help='Connections the kernel queues before the server '
                        'accepts them (listen backlog; capped by '
                        'net.core.somaxconn), and idle keep-alive '
                        'connections kept: a rack powering on connects at '
                        'once.'),
    ]


def json_rpc_opts():
    """Ironic's JSON-RPC option set, with the shim's own default port."""
    opts = [copy.deepcopy(opt) for opt in ironic_json_rpc.opts]
    for opt in opts:
        if opt.dest == 'port':
            opt.default = JSON_RPC_DEFAULT_PORT
            opt.help = ('The port the boot config shim listens on for JSON '
                        'RPC; the same on every conductor host.')
        elif opt.dest == 'auth_strategy':
            opt.help = ('Authentication strategy of the shim\'s JSON-RPC. '
                        'Defaults to [json_rpc]auth_strategy, else the '
                        'global auth_strategy.')
    return opts


def _register(conf, opts, group):
    for opt in opts:
        try:
            conf.register_opt(opt, group=group)
        except cfg.DuplicateOptError:
            # NOTE: a newer Ironic may define an option of the spec itself;
            # its definition wins and ours stays out of the way.
            pass


def register_opts(conf):
    """Register every option of this package on ``conf`` (idempotent)."""
    _register(conf, api_opts, 'api')
    _register(conf, pxe_opts, 'pxe')
    _register(conf, boot_config_opts, 'boot_config')
    _register(conf, boot_api_opts(), BOOT_API_GROUP)
    conf.register_group(_json_rpc_group())
    if 'group' in inspect.signature(ironic_json_rpc.register_opts).parameters:
        ironic_json_rpc.register_opts(conf, group=JSON_RPC_GROUP)
        conf.set_default('port', JSON_RPC_DEFAULT_PORT, group=JSON_RPC_GROUP)
    else:
        # NOTE: Ironic 29.x registers JSON-RPC options for [json_rpc] only.
        _register(conf, json_rpc_opts(), JSON_RPC_GROUP)
        keystone.register_auth_opts(conf, JSON_RPC_GROUP)


def json_rpc_auth_strategy(conf, group=JSON_RPC_GROUP):
    """``[<group>]auth_strategy``, else ``[DEFAULT]``'s, as Ironic decides
    for its own JSON-RPC groups (whose helper takes no group before
    2026.1)."""
    return getattr(conf, group).auth_strategy or conf.auth_strategy


def inherit_json_rpc(conf):
    """``[boot_config_json_rpc]`` secured as ``[json_rpc]``, unless set.

    Every option of :data:`JSON_RPC_INHERITED` (and of the auth plugins'
    options) present in both groups on this Ironic release defaults to its
    ``[json_rpc]`` value; a value of ours (file, environment, command line,
    override) still wins. Call it once the configuration is parsed, before
    anything reads the group. Idempotent.

    :returns: the names of the options taken from values set in
        ``[json_rpc]``, for the log (never the values: secrets).
    """
    if 'json_rpc' not in conf:
        # A ConfigOpts of its own (a paste pipeline, tests): Ironic
        # registers [json_rpc] on its global CONF only.
        ironic_json_rpc.register_opts(conf)
    names = list(JSON_RPC_INHERITED)
    # keystoneauth registers a plugin's options (username, password) only
    # when it loads the plugin: register them in both groups to read them.
    # NOTE: only a plugin Ironic's client may load: the required options of
    # another (the default password plugin's auth_url, with [json_rpc] not
    # on keystone) fail every later parse of the configuration (SIGHUP's
    # mutate in ironic-api, Ironic's own API tests).
    for plugin in dict.fromkeys(['http_basic', _json_rpc_plugin(conf)]):
        try:
            opts = ks_loading.get_auth_plugin_conf_options(plugin or 'none')
        except ks_exceptions.NoMatchingPlugin:
            continue  # a typo: Ironic's own client reports it
        for group in ('json_rpc', JSON_RPC_GROUP):
            _register(conf, opts, group)
        names += [opt.dest for opt in opts]
    ours, theirs = getattr(conf, JSON_RPC_GROUP), conf.json_rpc
    inherited = []
    for name in dict.fromkeys(names):
        if name not in ours or name not in theirs or \
                _is_set(conf, name, JSON_RPC_GROUP):
            continue
        conf.set_default(name, getattr(theirs, name), group=JSON_RPC_GROUP)
        if _is_set(conf, name, 'json_rpc'):
            inherited.append(name)
    return inherited


def _json_rpc_plugin(conf):
    """The keystoneauth plugin of Ironic's JSON-RPC client: ``[json_rpc]
    auth_type`` on keystone or when set, else its auth strategy's."""
    strategy = json_rpc_auth_strategy(conf, 'json_rpc')
    if strategy == 'keystone' or _is_set(conf, 'auth_type', 'json_rpc'):
        return conf.json_rpc.auth_type
    return 'none' if strategy == 'noauth' else strategy


def _is_set(conf, name, group):
    """Whether ``[group]name`` has a value of its own, not a default."""
    where = conf.get_location(name, group)  # None: no default either
    return where is not None and where.location not in (
        cfg.Locations.opt_default, cfg.Locations.set_default)


def check_shim_auth(conf):
    """Refuse a shim that would answer anyone while Ironic's JSON-RPC does
    not: ``noauth`` on an address beyond loopback, ``[json_rpc]``
    authenticated (http_basic or keystone).

    :raises: ConfigFileValueError naming both groups and the options.
    """
    if conf.rpc_transport != 'json-rpc':
        return
    ours = getattr(conf, JSON_RPC_GROUP)
    theirs = json_rpc_auth_strategy(conf, 'json_rpc')
    if (json_rpc_auth_strategy(conf) != 'noauth'
            or theirs not in ('http_basic', 'keystone')
            # A unix socket is reachable from this host only.
            or getattr(ours, 'unix_socket', None)
            or _is_loopback(ours.host_ip)):
        return
    raise cfg.ConfigFileValueError(
        'The shim would serve get_boot_config to anyone: [%(group)s]'
        'auth_strategy is noauth on [%(group)s]host_ip = %(host)s, not a '
        'loopback address, while [json_rpc]auth_strategy is %(theirs)s. '
        'Unset [%(group)s]auth_strategy to take [json_rpc]\'s, or listen '
        'on 127.0.0.1 or ::1' % {'group': JSON_RPC_GROUP,
                                 'host': ours.host_ip, 'theirs': theirs})


def _is_loopback(host):
    """127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or ``localhost``;
    ``::`` and ``0.0.0.0`` are every address, not loopback."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == 'localhost'
    return (getattr(address, 'ipv4_mapped', None) or address).is_loopback


def source_networks(conf, option='allowed_source_cidrs'):
    """``[boot_config]allowed_source_cidrs`` (or another list of networks
    of the group, e.g. ``trusted_proxies``) parsed (ValueError if bad)."""
    return [ipaddress.ip_network(cidr.strip(), strict=False)
            for cidr in getattr(conf.boot_config, option) if cidr.strip()]


def validate(conf):
    """Read every option once so that bad values fail at start-up.

    oslo.config checks types and bounds lazily, on first access; without
    this, a typo would surface as a 404 on the first boot.
    """
    for group, opts in _own_opts():
        for opt in opts:
            try:
                getattr(getattr(conf, group), opt.dest)
            except ValueError as exc:
                raise cfg.ConfigFileValueError(
                    'Invalid [%s]%s: %s' % (group, opt.dest, exc)) from None
    for option in ('allowed_source_cidrs', 'trusted_proxies'):
        try:
            source_networks(conf, option)
        except ValueError as exc:
            raise cfg.ConfigFileValueError(
                'Invalid [boot_config]%s: %s' % (option, exc)) from None


def validate_sources(conf, group='api'):
    """Where the source of a request comes from must be able to tell the
    machines apart, or the allow-list would refuse (or admit) all alike.

    With proxy header parsing (``[oslo_middleware]
    enable_proxy_headers_parsing``) the forwarded headers count only from a
    trusted proxy: one in ``trusted_proxies``, or any peer of the unix
    socket ``[<group>]unix_socket`` (``api``, or the boot API process's
    ``boot_config_api``), where no request has a TCP peer at all.
    """
    options = conf.boot_config
    unix_socket = getattr(conf, group).unix_socket
    parsing = conf.oslo_middleware.enable_proxy_headers_parsing
    if unix_socket and not parsing:
        if options.allowed_source_cidrs:
            raise cfg.ConfigFileValueError(
                'Invalid [boot_config]allowed_source_cidrs: the API listens '
                'on the unix socket [%s]unix_socket = %s, where no request '
                'has a source address; set [oslo_middleware]'
                'enable_proxy_headers_parsing = True, so that the allow-list '
                'sees the client in the X-Forwarded-For header of the proxy '
                'in front of it' % (group, unix_socket))
        if options.rate_limit:
            LOG.warning('[boot_config]rate_limit sees every machine as one '
                        'source: the API listens on the unix socket '
                        '[%s]unix_socket and [oslo_middleware]'
                        'enable_proxy_headers_parsing is False', group)
    if not parsing:
        if options.trusted_proxies:
            LOG.warning('[boot_config]trusted_proxies has no effect: '
                        '[oslo_middleware]enable_proxy_headers_parsing is '
                        'False, so /v1/boot sees the TCP peer only')
        return
    if options.trusted_proxies or unix_socket:
        return
    if options.allowed_source_cidrs:
        raise cfg.ConfigFileValueError(
            'Invalid [boot_config]allowed_source_cidrs: with [oslo_middleware]'
            'enable_proxy_headers_parsing = True the allow-list needs '
            '[boot_config]trusted_proxies, the networks of the proxies whose '
            'X-Forwarded-For or Forwarded names the machine; without it '
            'every request is judged by its TCP peer')
    LOG.warning('/v1/boot ignores X-Forwarded-For and Forwarded: '
                '[oslo_middleware]enable_proxy_headers_parsing is True but '
                '[boot_config]trusted_proxies names no proxy (and [%s] has no '
                'unix_socket)', group)


def _own_opts():
    return [('api', api_opts), ('pxe', pxe_opts),
            ('boot_config', boot_config_opts),
            (BOOT_API_GROUP, boot_api_opts()),
            (JSON_RPC_GROUP, json_rpc_opts())]


def list_opts():
    """Options for oslo-config-generator, grouped like ironic.conf."""
    # keystoneauth's session and plugin options, as Ironic lists them for
    # its own [json_rpc]; they are registered when a session is made.
    own = _own_opts()
    own[-1] = (_json_rpc_group(), keystone.add_auth_opts(json_rpc_opts()))
    return own


def _json_rpc_group():
    return cfg.OptGroup(JSON_RPC_GROUP, help=JSON_RPC_HELP)
