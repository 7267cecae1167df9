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

"""What a cluster is made of: typed records."""

import dataclasses
import os
import typing

from tests.harness.process import Process


@dataclasses.dataclass(frozen=True)
class ClusterSpec:
    """A cluster of real Ironic processes on loopback.

    :param db: ``mysql`` (MariaDB), ``postgresql`` or ``sqlite``.
    :param conductor_hosts: one conductor (and shim) per address.
    :param all_in_one: run ``ironic`` (API + conductor in one process) on
        each conductor host instead of a separate ``ironic-api``.
    :param rpc_transport: ``json-rpc``, ``oslo`` or ``none``.
    :param auth_strategy: of the API: ``noauth`` or ``http_basic`` (user
        ``admin``, password ``password``).
    :param extra_conf: ``{section: {option: value}}`` for every process.
    :param middleware: put the filter in front of the API.
    :param api_port: the API's port (default: a free one).
    :param http_host: the host in each conductor's ``[deploy]http_url``:
        how the booting machine reaches this host (QEMU: 10.0.2.2).
    :param boot_config_api: set ``[pxe]ipxe_use_boot_config_api`` and the
        API's root URL on ``http_host``; with shims, the template at
        ``<workdir>/templates-N/boot.ipxe`` too (the all-in-one ``ironic``
        without one needs nothing else).
    :param grub_boot_config_api: set ``[boot_config]
        grub_use_boot_config_api`` (the API's root URL as above); with
        shims, ``[pxe]initial_grub_template`` at ``<workdir>/templates-N/
        initial_grub_cfg.template`` too.
    :param deploy_kernel: a file to use as every node's deploy kernel.
    :param linux: a real Linux as every node's deploy kernel and ramdisk
        (linux.py), on this console (``ttyS0``): each conductor appends
        ``console=<it> ibc.conductor=<its host>`` to the kernel parameters
        (``[pxe]kernel_append_params``), so the booted machine's console
        says whose script it booted.
    :param linux_arch: the Debian architecture of that Linux.
    :param api_server: how the API is served: ``ironic-api`` with
        ``[api]middleware = boot_config``; ``wsgi``: gunicorn on
        ``ironic_boot_config_mw.wsgi:application``; ``paste``: gunicorn on
        ``etc/ironic-boot-config-mw/api-paste.ini``. Default: ``ironic-api``
        where Ironic has ``[api]middleware``, else ``wsgi``; the
        environment variable IBC_API_SERVER chooses for a whole run.
    :param api_per_host: with ``all_in_one``, each replica's API listens
        on its own host address (Metal3's shape); ``api_url`` is the first.
    :param api_unix_socket: the API listens on ``[api]unix_socket`` only
        (Metal3's and Bifrost's TLS shape; a proxy in front reaches it):
        ``<workdir>/api.sock``, or ``api-N.sock`` per all-in-one replica.
    :param api_host: where the API listens and clients reach it (default
        127.0.0.1, or the first conductor's host with ``api_per_host``),
        e.g. ``::1``.
    :param api_host_ip: ``[api]host_ip`` of the API, if not its host's
        address (e.g. ``::ffff:127.0.0.1``: a dual-stack socket).
    :param config_dir: start every process with ``--config-dir`` (as
        Metal3 runs ``ironic``): its ``ironic.conf`` and ``config_files``
        in a directory of its own.
    :param config_files: ``{file name: text}`` added to every process's
        configuration directory (with ``config_dir``), e.g. a drop-in; a
        callable instead of the text is given the cluster and the process's
        Conductor (None for a separate API).
    :param shim_environment: variables of the shims' own environment,
        e.g. ``OS_<GROUP>__<OPT>`` options of theirs (oslo.config).
    :param shim_nice: the shims' niceness (``Nice=`` of their unit).
    """

    db: str = 'mysql'
    conductor_hosts: typing.Tuple[str, ...] = ('127.0.0.2', '127.0.0.3')
    all_in_one: bool = False
    rpc_transport: str = 'json-rpc'
    auth_strategy: str = 'noauth'
    extra_conf: typing.Mapping[str, typing.Mapping[str, str]] = \
        dataclasses.field(default_factory=dict)
    middleware: bool = True
    api_port: typing.Optional[int] = None
    http_host: str = '127.0.0.1'
    boot_config_api: bool = False
    grub_boot_config_api: bool = False
    deploy_kernel: typing.Optional[str] = None
    linux: typing.Optional[str] = None
    linux_arch: str = 'amd64'
    api_server: typing.Optional[str] = None
    api_per_host: bool = False
    api_unix_socket: bool = False
    api_host: typing.Optional[str] = None
    api_host_ip: typing.Optional[str] = None
    config_dir: bool = False
    config_files: typing.Mapping[str, str] = \
        dataclasses.field(default_factory=dict)
    shim_environment: typing.Mapping[str, str] = \
        dataclasses.field(default_factory=dict)
    shim_nice: int = 0

    def __post_init__(self):
        # A list given for the hosts is kept as a tuple: the spec is frozen.
        object.__setattr__(self, 'conductor_hosts',
                           tuple(self.conductor_hosts))


@dataclasses.dataclass
class Conductor:
    """One conductor host of a running cluster: where it writes, where it
    listens, and its processes."""

    host: str
    index: int
    http_root: str
    http_port: int
    http_url: str
    tftp_root: str
    template: str  # the root iPXE template ([pxe]ipxe_boot_script)
    grub_template: str  # the master GRUB one ([pxe]initial_grub_template)
    json_rpc_port: int
    conf_path: typing.Optional[str] = None
    process: typing.Optional[Process] = None
    shim: typing.Optional[Process] = None

    def config_path(self, uuid, root='http_root'):
        """Where this conductor writes node ``uuid``'s boot config:
        ``<root>/<uuid>/config``, as Ironic's pxe_utils does."""
        return os.path.join(getattr(self, root), uuid, 'config')

    def written_config(self, uuid, root='http_root'):
        """The bytes this conductor wrote as node ``uuid``'s boot config."""
        with open(self.config_path(uuid, root), 'rb') as f:
            return f.read()
