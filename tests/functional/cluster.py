"""Real Ironic processes on loopback, for functional tests and the demo.

An :class:`IronicCluster` writes one ``ironic.conf`` per process, creates the
schema, starts ``ironic-api`` (or the all-in-one ``ironic``), one
``ironic-conductor`` and one ``ironic-boot-config-conductor`` per conductor
host (127.0.0.2, 127.0.0.3, ...) and stops exactly the processes it started.
Every wait is bounded.
"""

import configparser
import contextlib
import datetime
import functools
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from oslo_utils import netutils
import requests

BIN = os.path.dirname(sys.executable)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PASTE_INI = os.path.join(ROOT, 'etc', 'ironic-boot-config-mw',
                         'api-paste.ini')


def ironic_has_api_middleware():
    """Whether this Ironic loads [api]middleware (2026.1 / 35.0 and newer)."""
    from ironic.conf import api
    return any(opt.name == 'middleware' for opt in api.opts)


# The filter's one log line per request (its own request log).
_BOOT_LOG = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \d+ \w+ '
                       r'ironic_boot_config_mw\.api\.middleware .*?'
                       r'(GET|HEAD) (\S+) from \S+: (\d{3})')
API_VERSION_HEADER = {'X-OpenStack-Ironic-API-Version': 'latest'}
WAIT_STATES_REACHED = ('clean wait',)


def free_port(host='127.0.0.1'):
    """A TCP port free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_on_all(hosts):
    """A TCP port free on every one of ``hosts``."""
    for _ in range(50):
        port = free_port(hosts[0])
        try:
            for host in hosts[1:]:
                with socket.socket() as s:
                    s.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError('no common free port on %s' % (hosts,))


def wait_for(predicate, timeout, what, interval=0.2):
    """Poll ``predicate`` until it returns a true value, for ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError('timed out after %ss waiting for %s'
                               % (timeout, what))
        time.sleep(interval)


class Database:
    """A throw-away Ironic database: SQLite file or MariaDB schema."""

    def __init__(self, kind, workdir):
        self.kind = kind
        if kind == 'sqlite':
            self.url = 'sqlite:///%s' % os.path.join(workdir, 'ironic.sqlite')
        elif kind == 'mysql':
            self.name = 'ibc_%s' % uuid.uuid4().hex[:12]
            self._mysql('CREATE DATABASE %s' % self.name)
            self.url = ('mysql+pymysql://root@127.0.0.1/%s?charset=utf8'
                        % self.name)
        elif kind == 'postgresql':
            self.name = 'ibc_%s' % uuid.uuid4().hex[:12]
            self._postgresql('CREATE DATABASE %s' % self.name)
            self.url = ('postgresql+psycopg2://postgres@127.0.0.1/%s'
                        % self.name)
        else:
            raise ValueError(kind)

    @staticmethod
    def _mysql(sql):
        import pymysql
        conn = pymysql.connect(host='127.0.0.1', user='root', password='',
                               connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    @staticmethod
    def _postgresql(sql):
        import psycopg2
        conn = psycopg2.connect(host='127.0.0.1', user='postgres',
                                dbname='postgres', connect_timeout=5)
        conn.autocommit = True  # CREATE DATABASE runs outside transactions
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def drop(self):
        if self.kind == 'mysql':
            self._mysql('DROP DATABASE IF EXISTS %s' % self.name)
        elif self.kind == 'postgresql':
            self._postgresql('DROP DATABASE IF EXISTS %s WITH (FORCE)'
                             % self.name)


class Process:
    """One started process, its log, and a bounded stop."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, 'ab')
        self.popen = subprocess.Popen(argv, stdout=self._log,
                                      stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def signal(self, signum):
        """Signal the process only (the service launcher's parent)."""
        if self.alive():
            os.kill(self.popen.pid, signum)

    def signal_group(self, signum):
        """Signal the process and the workers it forked (its own session)."""
        if self.alive():
            os.killpg(self.popen.pid, signum)

    def stop(self, timeout=40):
        if self.alive():
            # SIGCONT first: a test may have stopped it with SIGSTOP.
            self.signal_group(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(5)
        with contextlib.suppress(ProcessLookupError):
            # Workers that outlived their parent.
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._log.close()


class TcpProxy:
    """A loopback TCP relay to cut a service away from one process.

    ``stop()`` closes the listener and every relayed connection (the
    service is gone, connections reset); ``start()`` listens again on the
    same port.
    """

    def __init__(self, target_host, target_port, host='127.0.0.1'):
        self.target = (target_host, target_port)
        self.host, self.port = host, free_port(host)
        self._sockets = set()
        self._lock = threading.Lock()
        self._listener = None
        self.start()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,),
                         daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self):
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close()
            # alone would leave the socket listening until it returns.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def listening(host, port):
    """Whether something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError):
        with socket.create_connection((host, port), timeout=1):
            return True
    return False


def start_nginx(workdir, server, access_log=True):
    """nginx on a free loopback port with ``server`` as the body of its one
    server block; every path it writes stays under ``workdir``.

    Returns (:class:`Process`, base URL).
    """
    port = free_port()
    conf = os.path.join(workdir, 'nginx.conf')
    temp = ''.join(' %s_temp_path %s;\n' % (kind, workdir) for kind in
                   ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'))
    with open(conf, 'w') as f:
        f.write('worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\n'
                'error_log %s/nginx-error.log;\n'
                'events { worker_connections 1024; }\n'
                'http {\n access_log %s;\n default_type text/plain;\n%s'
                ' server {\n  listen 127.0.0.1:%d;\n%s }\n}\n'
                % (workdir, workdir,
                   os.path.join(workdir, 'nginx-access.log')
                   if access_log else 'off', temp, port, server))
    proc = Process('nginx', [shutil.which('nginx') or 'nginx', '-c', conf,
                             '-p', workdir],
                   os.path.join(workdir, 'nginx.log'))

    def up():
        if not proc.alive():
            raise RuntimeError('nginx exited:\n%s' % proc.log())
        return listening('127.0.0.1', port)

    wait_for(up, 30, 'nginx')
    return proc, 'http://127.0.0.1:%d' % port


class StaticServer:
    """Serves a conductor's http_root as nginx would, logging requests."""

    def __init__(self, root, port, host='127.0.0.1'):
        self.requests = []  # (time.time(), method, path, status)
        log = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code='-', size='-'):
                log.append((time.time(), self.command, self.path,
                            int(getattr(code, 'value', code))))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(
            (host, port), functools.partial(Handler, directory=root))
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def first(self, path, since=0.0):
        """(time, status) of the first request for ``path``, or None."""
        for when, _method, got, status in list(self.requests):
            if got == path and when >= since:
                return when, status
        return None

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class BulkNodes:
    """Many nodes written straight into Ironic's tables (real ones would
    take an automated clean each), in ``clean wait``, 2 NICs each, with a
    per-node iPXE script in every conductor's http_root.

    :param script: the script, ``@UUID@`` standing for the node's UUID
        (take a real one, written by a conductor for a real node).
    """

    def __init__(self, cluster, script):
        from ironic.db.sqlalchemy import models
        import sqlalchemy as sa
        self.sa = sa
        self.cluster = cluster
        self.script = script
        self.engine = sa.create_engine(cluster.db.url)
        self.nodes_t = models.Node.__table__
        self.ports_t = models.Port.__table__
        self.uuids, self.macs = [], []

    def grow(self, total):
        sa = self.sa
        with self.engine.begin() as conn:
            next_id = (conn.execute(sa.select(sa.func.max(
                self.nodes_t.c.id))).scalar() or 0) + 1
        nodes, ports = [], []
        first = len(self.uuids)
        for n in range(first, total):
            node_uuid = str(uuid.uuid4())
            node_id = next_id + n - first
            nodes.append({
                'id': node_id, 'uuid': node_uuid, 'driver': 'fake-hardware',
                'provision_state': 'clean wait', 'power_state': 'power on',
                'boot_interface': 'ipxe', 'deploy_interface': 'direct',
                'conductor_group': '', 'protected': False,
                'maintenance': False, 'driver_info': {}, 'properties': {},
                'instance_info': {}, 'driver_internal_info': {},
                'extra': {}, 'version': '1.0'})
            for nic in (1, 2):
                mac = '52:54:%02x:%02x:%02x:%02x' % (
                    nic, n >> 16, (n >> 8) & 0xff, n & 0xff)
                ports.append({
                    'uuid': str(uuid.uuid4()), 'node_id': node_id,
                    'address': mac, 'pxe_enabled': True, 'extra': {},
                    'available_for_dynamic_portgroup': False,
                    'version': '1.0'})
                self.macs.append(mac)
            self.uuids.append(node_uuid)
        with self.engine.begin() as conn:
            for start in range(0, len(nodes), 1000):
                conn.execute(self.nodes_t.insert(), nodes[start:start + 1000])
            for start in range(0, len(ports), 2000):
                conn.execute(self.ports_t.insert(), ports[start:start + 2000])
        for node in nodes:
            for host in self.cluster.conductors:
                path = self.cluster.config_path(host, node['uuid'])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'wb') as f:
                    f.write(self.script.replace(b'@UUID@',
                                                node['uuid'].encode()))


class IronicCluster:
    """API + conductors + shims over one database, all on loopback.

    :param workdir: a fresh directory for configs, logs and http roots.
    :param db: ``'mysql'`` (MariaDB on 127.0.0.1) or ``'sqlite'``.
    :param conductor_hosts: one conductor (and shim) per address.
    :param all_in_one: run ``ironic`` (API + conductor in one process)
        on each conductor host instead of a separate API.
    :param rpc_transport: ``json-rpc``, ``oslo`` or ``none``.
    :param extra_conf: extra ``{section: {option: value}}`` for every
        process.
    :param http_host: host in each conductor's ``[deploy]http_url``: what
        the booting machine uses to reach this host (QEMU: 10.0.2.2).
    :param boot_config_api: set ``[pxe]ipxe_use_boot_config_api`` with the
        template at ``<workdir>/templates-N/boot.ipxe`` and the API root URL
        on ``http_host``.
    :param deploy_kernel: a file to use as every node's deploy kernel.
    :param api_server: how the API is served: ``ironic-api`` with
        ``[api]middleware = boot_config``; ``wsgi``: gunicorn on
        ``ironic_boot_config_mw.wsgi:application``; ``paste``: gunicorn on
        ``etc/ironic-boot-config-mw/api-paste.ini``. Default: ``ironic-api``
        where Ironic has ``[api]middleware``, else ``wsgi``; the
        environment variable IBC_API_SERVER chooses for a whole run.
    :param api_per_host: with ``all_in_one``, each replica's API listens
        on its own host address (Metal3's shape); ``api_url`` is the first.
    """

    def __init__(self, workdir, db='mysql',
                 conductor_hosts=('127.0.0.2', '127.0.0.3'),
                 all_in_one=False, rpc_transport='json-rpc',
                 auth_strategy='noauth', extra_conf=None, middleware=True,
                 api_port=None, http_host='127.0.0.1', boot_config_api=False,
                 deploy_kernel=None, api_server=None, api_per_host=False):
        self.workdir = workdir
        self.db = Database(db, workdir)
        self.conductor_hosts = list(conductor_hosts)
        self.all_in_one = all_in_one
        self.rpc_transport = rpc_transport
        self.auth_strategy = auth_strategy
        self.extra_conf = extra_conf or {}
        self.middleware = middleware
        self.api_server = (api_server or os.environ.get('IBC_API_SERVER')
                           or ('ironic-api' if ironic_has_api_middleware()
                               else 'wsgi'))
        self.http_host = http_host
        self.boot_config_api = boot_config_api
        self.http_servers = {}
        self.processes = []
        self.api_per_host = api_per_host
        self.api_host = ('127.0.0.1' if not api_per_host
                         else conductor_hosts[0])
        self.api_port = api_port or (
            free_port_on_all(list(conductor_hosts)) if api_per_host
            else free_port(self.api_host))
        self.shim_port = free_port_on_all(self.conductor_hosts)
        self.images = os.path.join(workdir, 'images')
        os.makedirs(self.images, exist_ok=True)
        for name in ('deploy_kernel', 'deploy_ramdisk'):
            with open(os.path.join(self.images, name), 'wb') as f:
                f.write(b'fake %s\n' % name.encode())
        if deploy_kernel:
            shutil.copyfile(deploy_kernel,
                            os.path.join(self.images, 'deploy_kernel'))
        self.conductors = {}
        for index, host in enumerate(self.conductor_hosts):
            http_port = free_port()
            self.conductors[host] = {
                'http_root': os.path.join(workdir, 'httproot-%d' % index),
                'http_port': http_port,
                'http_url': 'http://%s:%d' % (http_host, http_port),
                'template': os.path.join(workdir, 'templates-%d' % index,
                                         'boot.ipxe'),
                'tftp_root': os.path.join(workdir, 'tftproot-%d' % index),
                'json_rpc_port': free_port(host),
            }
            for key in ('http_root', 'tftp_root'):
                os.makedirs(self.conductors[host][key], exist_ok=True)
        self.session = requests.Session()
        self.session.headers.update(API_VERSION_HEADER)
        if auth_strategy == 'http_basic':
            self.htpasswd = os.path.join(workdir, 'htpasswd')
            import bcrypt  # Ironic's own dependency for http_basic
            hashed = bcrypt.hashpw(b'password', bcrypt.gensalt(rounds=4))
            with open(self.htpasswd, 'w') as f:
                f.write('admin:%s\n' % hashed.decode())
            self.session.auth = ('admin', 'password')

    # -- configuration ---------------------------------------------------

    @property
    def api_url(self):
        return 'http://%s:%d' % (self.api_host, self.api_port)

    def api_url_of(self, host):
        """The API of the replica on ``host`` (``api_per_host``)."""
        return 'http://%s:%d' % (host, self.api_port)

    def conf_for(self, host=None, overrides=None):
        """The ``ironic.conf`` content of the process on ``host``."""
        conf = {
            'DEFAULT': {
                'auth_strategy': self.auth_strategy,
                'rpc_transport': self.rpc_transport,
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
                'use_stderr': 'true',
            },
            'database': {'connection': self.db.url},
            'dhcp': {'dhcp_provider': 'none'},
            'conductor': {'automated_clean': 'true',
                          'file_url_allowed_paths': self.images,
                          'heartbeat_interval': '2'},
            'service_catalog': {'endpoint_override': self.api_url},
            'api': {'host_ip': self.api_host, 'port': str(self.api_port),
                    'api_workers': '1'},
            'json_rpc': {'auth_strategy': 'noauth'},
            'boot_config_json_rpc': {'auth_strategy': 'noauth',
                                     'port': str(self.shim_port)},
            'oslo_concurrency': {'lock_path': os.path.join(self.workdir,
                                                           'locks')},
        }
        if self.auth_strategy == 'http_basic':
            conf['DEFAULT']['http_basic_auth_user_file'] = self.htpasswd
        if self.middleware and self.api_server == 'ironic-api':
            conf['api']['middleware'] = 'boot_config'
        if host is not None:
            c = self.conductors[host]
            conf['DEFAULT']['host'] = host
            conf['json_rpc'].update(host_ip=host,
                                    port=str(c['json_rpc_port']))
            conf['boot_config_json_rpc']['host_ip'] = host
            conf['deploy'] = {'http_root': c['http_root'],
                              'http_url': c['http_url']}
            if self.api_per_host:
                conf['api']['host_ip'] = host
                conf['service_catalog']['endpoint_override'] = (
                    'http://%s:%d' % (host, self.api_port))
            conf['pxe'] = {
                'tftp_root': c['tftp_root'],
                'tftp_server': host,
                'tftp_master_path': os.path.join(c['tftp_root'], 'master'),
                'instance_master_path': os.path.join(c['http_root'],
                                                     'master_images')}
            if self.boot_config_api:
                conf['pxe'].update(
                    ipxe_use_boot_config_api='true',
                    ipxe_boot_script=c['template'],
                    ipxe_config_api_root_url='http://%s:%d' % (
                        self.http_host, self.api_port))
        for extra in (self.extra_conf, overrides or {}):
            for section, values in extra.items():
                conf.setdefault(section, {}).update(values)
        return conf

    def write_conf(self, name, host=None, overrides=None):
        parser = configparser.ConfigParser(interpolation=None)
        for section, values in self.conf_for(host, overrides).items():
            if section != 'DEFAULT':
                parser.add_section(section)
            for key, value in values.items():
                parser.set(section, key, str(value))
        path = os.path.join(self.workdir, '%s.conf' % name)
        with open(path, 'w') as f:
            parser.write(f)
        return path

    # -- processes -------------------------------------------------------

    def spawn(self, name, command, conf_path):
        argv = [os.path.join(BIN, command), '--config-file', conf_path]
        proc = Process(name, argv, os.path.join(self.workdir, name + '.log'))
        self.processes.append(proc)
        return proc

    def spawn_api(self, name, conf_path, port):
        """The API as ``self.api_server`` says: ironic-api, or gunicorn on
        the WSGI module or the paste pipeline (10 threads, as cheroot)."""
        if self.api_server == 'ironic-api':
            return self.spawn(name, 'ironic-api', conf_path)
        argv = [os.path.join(BIN, 'gunicorn'), '--workers', '1',
                '--threads', '10', '--bind',
                '%s:%d' % (self.api_host, port)]
        if self.api_server == 'paste':
            argv += ['--paste', PASTE_INI]
        else:
            argv.append('ironic_boot_config_mw.wsgi:application')
        proc = Process(name, argv, os.path.join(self.workdir, name + '.log'),
                       env=dict(os.environ, IRONIC_CONFIG_FILE=conf_path))
        self.processes.append(proc)
        return proc

    def start(self, timeout=90):
        conf = self.write_conf('dbsync', self.conductor_hosts[0])
        subprocess.run([os.path.join(BIN, 'ironic-dbsync'), '--config-file',
                        conf, 'create_schema'], check=True, timeout=120,
                       capture_output=True)
        self.conf_paths = {}
        if not self.all_in_one:
            self.conf_paths['api'] = self.write_conf('api')
            self.api = self.spawn_api('api', self.conf_paths['api'],
                                      self.api_port)
        for index, host in enumerate(self.conductor_hosts):
            path = self.write_conf('conductor-%d' % index, host)
            self.conf_paths[host] = path
            # The documented order: the shim (which writes the root iPXE
            # template) before the conductor (which renders it).
            if self.rpc_transport != 'none':
                self.conductors[host]['shim'] = self.start_shim(host)
                if self.boot_config_api:
                    wait_for(lambda: os.path.exists(
                        self.conductors[host]['template'])
                        or self.check_alive(), timeout, 'the root template')
            elif self.boot_config_api:
                subprocess.run([os.path.join(BIN, 'ironic-boot-config-'
                                             'root-template'),
                                '--config-file', path], check=True,
                               timeout=120, capture_output=True)
            self._spawn_conductor(host)
        self.wait_ready(timeout)
        return self

    def _spawn_conductor(self, host):
        """``ironic-conductor`` (or the all-in-one ``ironic``) on ``host``."""
        command = 'ironic' if self.all_in_one else 'ironic-conductor'
        self.conductors[host]['process'] = self.spawn(
            'conductor-%d' % self.conductor_hosts.index(host), command,
            self.conf_paths[host])

    def serve_http(self):
        """Start an HTTP server on each conductor's http_root."""
        for host, c in self.conductors.items():
            self.http_servers[host] = StaticServer(c['http_root'],
                                                   c['http_port'])
        return self.http_servers

    def start_extra_api(self, name, overrides, timeout=90):
        """Another ironic-api on the same database: its URL."""
        port = free_port(self.api_host)
        overrides = dict(overrides)
        overrides.setdefault('api', {}).update(port=str(port))
        self.spawn_api(name, self.write_conf(name, None, overrides), port)
        url = 'http://%s:%d' % (self.api_host, port)

        def up():
            self.check_alive()
            with contextlib.suppress(requests.RequestException):
                return requests.get(url + '/', timeout=2).status_code == 200
        wait_for(up, timeout, 'the API at %s' % url)
        return url

    def start_shim(self, host):
        index = self.conductor_hosts.index(host)
        return self.spawn('shim-%d' % index, 'ironic-boot-config-conductor',
                          self.conf_paths[host])

    def restart_conductor(self, host, timeout=90):
        self.conductors[host]['process'].stop()
        self._spawn_conductor(host)
        self.wait_ready(timeout)

    def check_alive(self):
        for proc in self.processes:
            if not proc.alive() and proc.popen.returncode not in (0, -15):
                raise RuntimeError('%s exited with %s:\n%s' % (
                    proc.name, proc.popen.returncode, proc.log()[-3000:]))

    def wait_ready(self, timeout=90):
        def api_up():
            self.check_alive()
            try:
                return self.session.get(self.api_url + '/v1',
                                        timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_for(api_up, timeout, 'the API at %s' % self.api_url)

        def conductors_up():
            self.check_alive()
            resp = self.session.get(self.api_url + '/v1/conductors',
                                    timeout=5)
            alive = {c['hostname'] for c in resp.json()['conductors']
                     if c['alive']}
            return len(alive) >= len(self.conductor_hosts)
        wait_for(conductors_up, timeout, 'conductors to register')
        if self.rpc_transport == 'json-rpc':
            for host in self.conductor_hosts:
                wait_for(lambda: listening(host, self.shim_port)
                         or self.check_alive(), timeout,
                         'the shim on %s:%d' % (host, self.shim_port))

    def stop(self):
        for server in self.http_servers.values():
            server.stop()
        for proc in reversed(self.processes):
            proc.stop()
        self.db.drop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- API helpers -----------------------------------------------------

    def call(self, method, path, **kwargs):
        kwargs.setdefault('timeout', 30)
        resp = self.session.request(method, self.api_url + path, **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError('%s %s: %s %s' % (method, path,
                                                 resp.status_code, resp.text))
        return resp.json() if resp.content else None

    def boot_requests(self, process=None):
        """``(time.time(), method, path, status)`` of each /v1/boot request,
        from the API's log."""
        result = []
        for line in (process or self.api).log().splitlines():
            m = _BOOT_LOG.match(line)
            if m:
                when = datetime.datetime.strptime(m.group(1),
                                                  '%Y-%m-%d %H:%M:%S.%f')
                result.append((when.timestamp(), m.group(2), m.group(3),
                               int(m.group(4))))
        return result

    def create_node(self, macs, boot_interface='ipxe', name=None,
                    pxe_enabled=True, deploy_interface='direct'):
        node = self.call('POST', '/v1/nodes', json={
            'name': name,
            'driver': 'fake-hardware',
            'boot_interface': boot_interface,
            'deploy_interface': deploy_interface,
            'driver_info': {
                'deploy_kernel': 'file://%s/deploy_kernel' % self.images,
                'deploy_ramdisk': 'file://%s/deploy_ramdisk' % self.images,
            },
        })
        for mac in macs:
            self.call('POST', '/v1/ports', json={
                'node_uuid': node['uuid'], 'address': mac,
                'pxe_enabled': pxe_enabled})
        return node['uuid']

    def create_node_on(self, host, macs, **kwargs):
        """Create nodes, a MAC each from ``macs``, until Ironic's hash
        ring gives one to ``host`` (at most 20): ``(uuid, mac)``. The
        others stay enrolled."""
        for _attempt, mac in zip(range(20), macs):
            uuid = self.create_node([mac], **kwargs)
            if self.owner(uuid) == host:
                return uuid, mac
        raise AssertionError('no node landed on %s' % host)

    def node(self, uuid):
        return self.call('GET', '/v1/nodes/%s' % uuid)

    def set_provision_state(self, uuid, target):
        self.call('PUT', '/v1/nodes/%s/states/provision' % uuid,
                  json={'target': target})

    def wait_provision_state(self, uuids, state, timeout=120):
        def reached():
            states = {u: self.node(u)['provision_state'] for u in uuids}
            failed = {u: s for u, s in states.items()
                      if s != state and (s.endswith('failed')
                                         or s == 'error')}
            if failed:
                raise RuntimeError('nodes failed: %s: %s' % (
                    failed, [self.node(u)['last_error'] for u in failed]))
            return all(s == state for s in states.values())
        wait_for(reached, timeout, '%d nodes to reach %s'
                 % (len(uuids), state), interval=0.5)

    def to_clean_wait(self, uuids, timeout=120):
        """manage + provide: automated cleaning stops in ``clean wait``."""
        for node in uuids:
            self.set_provision_state(node, 'manage')
        self.wait_provision_state(uuids, 'manageable', timeout)
        for node in uuids:
            self.set_provision_state(node, 'provide')
        self.wait_provision_state(uuids, 'clean wait', timeout)

    def owner(self, uuid):
        """The conductor host that owns the node, as the API reports it
        (without the ``:port`` a JSON-RPC conductor may register with)."""
        return netutils.parse_host_port(self.node(uuid)['conductor'])[0]

    def config_path(self, host, uuid, root='http_root'):
        """Where the conductor on ``host`` writes node ``uuid``'s boot
        config: ``<root>/<uuid>/config``, as Ironic's pxe_utils does."""
        return os.path.join(self.conductors[host][root], uuid, 'config')

    def written_config(self, uuid, host=None, root='http_root'):
        """The bytes the conductor on ``host`` (default: the node's owner)
        wrote as node ``uuid``'s boot config."""
        with open(self.config_path(host or self.owner(uuid), uuid, root),
                  'rb') as f:
            return f.read()

    def boot(self, mac, name='boot.ipxe', method='GET', raw_path=None,
             base=None, **kwargs):
        """Fetch ``/v1/boot/<mac>/<name>`` WITHOUT credentials."""
        url = (base or self.api_url) + (raw_path
                                        or '/v1/boot/%s/%s' % (mac, name))
        kwargs.setdefault('timeout', 30)
        return requests.request(method, url, **kwargs)
