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

"""Real Ironic processes on loopback, as a :class:`ClusterSpec` says.

An :class:`IronicCluster` writes one ``ironic.conf`` per process, creates the
schema, starts ``ironic-api`` (or the all-in-one ``ironic``), one
``ironic-conductor`` and one shim per conductor host (127.0.0.2, 127.0.0.3,
...) and stops exactly the processes it started. Every wait is bounded.
"""

import contextlib
import os
import shutil
import subprocess
import sys

from oslo_utils import netutils
import requests

from tests.harness import client as client_mod
from tests.harness import config
from tests.harness import database
from tests.harness import http_root
from tests.harness import linux
from tests.harness import logs
from tests.harness import net
from tests.harness import process
from tests.harness.spec import ClusterSpec
from tests.harness.spec import Conductor

#: Where this environment's commands are (ironic-api, the shim, ...).
BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PASTE_INI = os.path.join(ROOT, 'etc', 'ironic-boot-config-mw',
                         'api-paste.ini')
SHIM = 'ironic-boot-config-shim'
BOOT_API = 'ironic-boot-config-api'
ADMIN = ('admin', 'password')


def _config_flag(path):
    return '--config-dir' if os.path.isdir(path) else '--config-file'


def ironic_has_api_middleware():
    """Whether this Ironic loads [api]middleware (2026.1 / 35.0 and newer)."""
    from ironic.conf import api
    return any(opt.name == 'middleware' for opt in api.opts)


class IronicCluster:
    """API + conductors + shims over one database, all on loopback.

    :param workdir: a fresh directory for configs, logs and http roots.
    :param spec: a :class:`~tests.harness.spec.ClusterSpec`, or its fields
        as keyword arguments.
    """

    def __init__(self, workdir, spec=None, **fields):
        self.spec = spec = spec or ClusterSpec(**fields)
        self.workdir = workdir
        self.db = database.Database(spec.db, workdir)
        self.api_server = (spec.api_server
                           or os.environ.get('IBC_API_SERVER')
                           or ('ironic-api' if ironic_has_api_middleware()
                               else 'wsgi'))
        self.processes = []
        self.http_servers = {}
        self.api_process = None
        self._api_urls = {}
        hosts = list(spec.conductor_hosts)
        self.api_host = spec.api_host or (
            hosts[0] if spec.api_per_host else '127.0.0.1')
        self.api_port = spec.api_port or (
            net.free_port_on_all(hosts) if spec.api_per_host
            else net.free_port(self.api_host))
        self.shim_port = net.free_port_on_all(hosts)
        self.images = os.path.join(workdir, 'images')
        os.makedirs(self.images, exist_ok=True)
        for name in ('deploy_kernel', 'deploy_ramdisk'):
            with open(os.path.join(self.images, name), 'wb') as f:
                f.write(b'fake %s\n' % name.encode())
        if spec.deploy_kernel:
            shutil.copyfile(spec.deploy_kernel,
                            os.path.join(self.images, 'deploy_kernel'))
        if spec.linux:
            shutil.copyfile(linux.kernel(spec.linux_arch),
                            os.path.join(self.images, 'deploy_kernel'))
            linux.initramfs(os.path.join(self.images, 'deploy_ramdisk'),
                            spec.linux_arch)
        self.conductors = {}
        for index, host in enumerate(hosts):
            http_port = net.free_port()
            self.conductors[host] = Conductor(
                host=host, index=index,
                http_root=os.path.join(workdir, 'httproot-%d' % index),
                http_port=http_port,
                http_url='http://%s:%d' % (
                    netutils.escape_ipv6(spec.http_host), http_port),
                tftp_root=os.path.join(workdir, 'tftproot-%d' % index),
                template=os.path.join(workdir, 'templates-%d' % index,
                                      'boot.ipxe'),
                grub_template=os.path.join(workdir, 'templates-%d' % index,
                                           'initial_grub_cfg.template'),
                json_rpc_port=net.free_port(host))
            os.makedirs(self.conductors[host].http_root)
            os.makedirs(self.conductors[host].tftp_root)
        self.htpasswd = None
        auth = None
        if spec.auth_strategy == 'http_basic':
            self.htpasswd = os.path.join(workdir, 'htpasswd')
            import bcrypt  # Ironic's own dependency for http_basic
            hashed = bcrypt.hashpw(ADMIN[1].encode(), bcrypt.gensalt(rounds=4))
            with open(self.htpasswd, 'w') as f:
                f.write('%s:%s\n' % (ADMIN[0], hashed.decode()))
            auth = ADMIN
        #: Ironic's API with the cluster's credentials.
        self.client = client_mod.IronicClient(self.api_url, auth,
                                              deploy_images=self.images)

    @property
    def conductor_hosts(self):
        return list(self.conductors)

    @property
    def api_url(self):
        """Where clients reach the API (a proxy's URL, if one is set)."""
        return self.api_url_of(self.api_host)

    def api_url_of(self, host):
        """The API of the replica on ``host`` (``api_per_host``)."""
        return self._api_urls.get(host) or self._api_urls.get(None) or \
            'http://%s:%d' % (netutils.escape_ipv6(host), self.api_port)

    def reach_api_at(self, url, host=None, auth=None, verify=True):
        """Clients reach the API (of the replica on ``host``) at ``url``:
        a proxy in front of it. Call before :meth:`start`: it is also the
        API URL the conductors give ramdisks."""
        self._api_urls[host] = url
        if host in (None, self.api_host):
            self.client = client_mod.IronicClient(
                url, auth or self.client.session.auth,
                deploy_images=self.images, verify=verify)

    def api_socket(self, conductor=None):
        """``[api]unix_socket`` of the API (of ``conductor``'s replica)."""
        if self.spec.all_in_one and conductor is not None:
            return os.path.join(self.workdir, 'api-%d.sock' % conductor.index)
        return os.path.join(self.workdir, 'api.sock')

    def write_conf(self, name, conductor=None, overrides=None):
        """The configuration of a process (see config.py): ``<workdir>/
        <name>.conf``, or with ``config_dir`` the directory ``<workdir>/
        <name>.d`` holding ``ironic.conf`` and the spec's config files."""
        conf = config.ironic_conf(self, conductor, overrides)
        if not self.spec.config_dir:
            return config.write(os.path.join(self.workdir, '%s.conf' % name),
                                conf)
        directory = os.path.join(self.workdir, '%s.d' % name)
        os.makedirs(directory, exist_ok=True)
        config.write(os.path.join(directory, 'ironic.conf'), conf)
        for file_name, text in self.spec.config_files.items():
            with open(os.path.join(directory, file_name), 'w') as f:
                f.write(text(self, conductor) if callable(text) else text)
        return directory

    # -- processes -------------------------------------------------------

    def spawn(self, name, command, conf_path, bin_dir=BIN, environment=None,
              nice=0):
        """Start ``<bin_dir>/<command> --config-file <conf_path>`` (or
        ``--config-dir``, for a directory)."""
        argv = [os.path.join(bin_dir, command), _config_flag(conf_path),
                conf_path]
        proc = process.Process(name, argv,
                               os.path.join(self.workdir, name + '.log'),
                               env=dict(os.environ, **environment)
                               if environment else None, nice=nice)
        self.processes.append(proc)
        return proc

    def spawn_api(self, name, conf_path, port, bin_dir=BIN):
        """The API as ``self.api_server`` says: ironic-api, or gunicorn on
        the WSGI module or the paste pipeline (10 threads, as cheroot)."""
        if self.api_server == 'ironic-api':
            return self.spawn(name, 'ironic-api', conf_path, bin_dir)
        argv = [os.path.join(bin_dir, 'gunicorn'), '--workers', '1',
                '--threads', '10', '--bind',
                '%s:%d' % (netutils.escape_ipv6(self.api_host), port)]
        if self.api_server == 'paste':
            argv += ['--paste', PASTE_INI]
        else:
            argv.append('ironic_boot_config_mw.wsgi:application')
        proc = process.Process(
            name, argv, os.path.join(self.workdir, name + '.log'),
            env=dict(os.environ, **{
                'IRONIC_CONFIG_DIR' if os.path.isdir(conf_path)
                else 'IRONIC_CONFIG_FILE': conf_path}))
        self.processes.append(proc)
        return proc

    def start(self, timeout=90):
        first = self.conductors[self.conductor_hosts[0]]
        conf = self.write_conf('dbsync', first)
        subprocess.run([os.path.join(BIN, 'ironic-dbsync'),
                        _config_flag(conf), conf, 'create_schema'],
                       check=True, timeout=120, capture_output=True)
        if not self.spec.all_in_one:
            self.api_process = self.spawn_api(
                'api', self.write_conf('api'), self.api_port)
        for c in self.conductors.values():
            c.conf_path = self.write_conf('conductor-%d' % c.index, c)
            # The documented order: the shim (which writes the root
            # templates) before the conductor (which renders them).
            if self.spec.rpc_transport != 'none':
                c.shim = self.start_shim(c.host)
                templates = [path for path, linked in (
                    (c.template, self.spec.boot_config_api),
                    (c.grub_template, self.spec.grub_boot_config_api))
                    if linked]
                net.wait_for(lambda: all(map(os.path.exists, templates))
                             or self.check_alive(), timeout,
                             'the root templates')
            self._spawn_conductor(c)
        if self.spec.all_in_one:
            self.api_process = self.conductors[self.api_host_conductor].process
        self.wait_ready(timeout)
        return self

    @property
    def api_host_conductor(self):
        """With ``all_in_one``: the host whose process serves ``api_url``."""
        return self.conductor_hosts[0]

    def _spawn_conductor(self, c):
        """``ironic-conductor`` (or the all-in-one ``ironic``) on ``c``."""
        c.process = self.spawn('conductor-%d' % c.index,
                               'ironic' if self.spec.all_in_one
                               else 'ironic-conductor', c.conf_path)

    def start_shim(self, host, bin_dir=BIN, command=SHIM):
        """The shim beside the conductor on ``host`` (not yet started, or
        stopped): its Process."""
        c = self.conductors[host]
        c.shim = self.spawn('shim-%d' % c.index, command, c.conf_path,
                            bin_dir, self.spec.shim_environment,
                            nice=self.spec.shim_nice)
        return c.shim

    def restart_conductor(self, host, timeout=90):
        c = self.conductors[host]
        c.process.stop()
        self._spawn_conductor(c)
        if self.spec.all_in_one and host == self.api_host_conductor:
            self.api_process = c.process
        self.wait_ready(timeout)

    def serve_http(self, host='127.0.0.1'):
        """An HTTP server on each conductor's http_root, on ``host``."""
        for c in self.conductors.values():
            self.http_servers[c.host] = http_root.HttpRootServer(
                c.http_root, c.http_port, host)
        return self.http_servers

    def start_extra_api(self, name, overrides, bin_dir=BIN, timeout=90):
        """Another API on the same database: ``(url, Process)``."""
        port = net.free_port(self.api_host)
        overrides = dict(overrides)
        overrides['api'] = dict(overrides.get('api', {}), port=str(port))
        proc = self.spawn_api(name, self.write_conf(name, None, overrides),
                              port, bin_dir)
        url = 'http://%s:%d' % (self.api_host, port)

        def up():
            self.check_alive()
            with contextlib.suppress(requests.RequestException):
                return requests.get(url + '/', timeout=2).status_code == 200
        net.wait_for(up, timeout, 'the API at %s' % url)
        return url, proc

    def start_boot_api(self, name, overrides=None, conductor=None, nice=0,
                       timeout=90, host='127.0.0.1'):
        """An ``ironic-boot-config-api`` on the cluster's database: with
        ``conductor`` (a host), that conductor's configuration (for
        ``rpc_transport = none``: the providers run in it). It listens on a
        free port of ``host``, unless ``overrides`` give it
        ``[boot_config_api]unix_socket``. ``(url, Process)`` once it
        serves (url None on a unix socket)."""
        overrides = dict(overrides or {})
        listener = dict(overrides.get('boot_config_api', {}))
        url = None
        if 'unix_socket' not in listener:
            port = net.free_port(host)
            listener = dict({'host_ip': host, 'port': str(port)}, **listener)
            url = 'http://%s:%d' % (host, port)
        overrides['boot_config_api'] = listener
        proc = self.spawn(name, BOOT_API, self.write_conf(
            name, self.conductors[conductor] if conductor else None,
            overrides), nice=nice)

        def serving():
            if not proc.alive():
                raise RuntimeError('%s exited with %s:\n%s' % (
                    name, proc.returncode, proc.log()[-3000:]))
            return 'serving /v1/boot and /health on' in proc.log()
        net.wait_for(serving, timeout, 'the boot API %s' % name)
        return url, proc

    def check_alive(self):
        """Raise, with its log, if a process died unasked."""
        for proc in self.processes:
            if proc.stopped:
                continue
            if not proc.alive() and proc.returncode not in (0, -15):
                raise RuntimeError('%s exited with %s:\n%s' % (
                    proc.name, proc.returncode, proc.log()[-3000:]))

    def wait_ready(self, timeout=90):
        """Until the API answers, every conductor is registered and every
        shim listens."""
        def api_up():
            self.check_alive()
            try:
                return self.client.get('/v1', timeout=2).status_code == 200
            except requests.RequestException:
                return False
        net.wait_for(api_up, timeout, 'the API at %s' % self.api_url)

        def conductors_up():
            self.check_alive()
            answer = self.client.call('GET', '/v1/conductors', timeout=5)
            alive = {c['hostname'] for c in answer['conductors']
                     if c['alive']}
            return len(alive) >= len(self.conductors)
        net.wait_for(conductors_up, timeout, 'conductors to register')
        if self.spec.rpc_transport == 'json-rpc':
            for host in self.conductors:
                net.wait_for(lambda: net.listening(host, self.shim_port)
                             or self.check_alive(), timeout,
                             'the shim on %s:%d' % (host, self.shim_port))

    def stop(self, timeout=40):
        """Stop everything started here, the last started first."""
        for server in self.http_servers.values():
            server.stop()
        for proc in reversed(self.processes):
            proc.stop(timeout)
        self.db.drop()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    # -- what the processes did ------------------------------------------

    def boot_requests(self, process=None, since=0.0):
        """The /v1/boot requests the API (or ``process``) logged."""
        return logs.boot_requests((process or self.api_process).log(), since)

    def owner(self, uuid):
        return self.client.owner(uuid)

    def written_config(self, uuid, host=None, root='http_root'):
        """The bytes the conductor on ``host`` (default: the node's owner)
        wrote as node ``uuid``'s boot config."""
        return self.conductors[host or self.owner(uuid)].written_config(
            uuid, root)
