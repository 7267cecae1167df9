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

"""Metal3's httpd in front of an all-in-one replica, with the shipped
recipes (``etc/metal3``).

As metal3-io/ironic-image's ``runhttpd`` does with TLS: its ``httpd.conf``
(the image server on HTTP_PORT, serving http_root, including ``conf.d``)
and its TLS API vhost on IRONIC_LISTEN_PORT (Basic auth, proxying to
Ironic's unix socket), rendered with jinja2 and Metal3's own variables; in
``conf.d`` the shipped ``/v1/boot`` route, and in the vhost the shipped
exemption. Each replica gets its own httpd on its own address, as each
ironic-standalone-operator pod on its host.
"""

import contextlib
import os
import shutil
import tempfile

from tests.harness import apache
from tests.harness import client
from tests.harness import net
from tests.harness import recipes
from tests.harness import tls
from tests.harness import vm
from tests.harness.spec import ClusterSpec

HTTP_PORT = 6180   # ironic-standalone-operator's image server
API_PORT = 6385    # and API (each taken unless in use on a replica)
#: The operator's user, in httpd's htpasswd (Ironic itself is noauth).
USER = ('metal3', 'secret')
EXEMPTION = os.path.join(recipes.ETC, 'metal3',
                         'httpd-ironic-api-boot-config.conf')

#: The HA shape's replicas: an all-in-one ``ironic`` on each host.
REPLICAS = ('127.0.0.2', '127.0.0.3', '127.0.0.4')
#: How a VM reaches each replica's image server (QEMU's guestfwd).
GUEST = {host: '10.0.2.10%s' % host.rsplit('.', 1)[1] for host in REPLICAS}
JSON_RPC_PORT = 6189   # ironic-standalone-operator's, not Ironic's 8089
#: [boot_config]rpc_timeout of the HA shape: short, so that a test sees
#: the answer about a lost owner.
RPC_TIMEOUT = 5


class Metal3:
    """What surrounds the replicas: the certificate (for every replica's
    address), httpd's htpasswd, and the variables Metal3 renders with.

    :param guest_host: how a booting machine reaches each replica's image
        server: ``{replica address: host}`` (default: the address itself).
    """

    def __init__(self, hosts, cert, key, htpasswd, guest_host=None, tls=True,
                 json_rpc=False, allowed_cidrs=''):
        self.http_port = _port_on_all(HTTP_PORT, hosts)
        self.api_port = _port_on_all(API_PORT, hosts)
        self.cert, self.key, self.htpasswd = cert, key, htpasswd
        self.guest_host = guest_host or {}
        self.tls = tls
        self.json_rpc = json_rpc
        self.allowed_cidrs = allowed_cidrs

    def image_server(self, host):
        """The image server of the replica on ``host``, as machines see
        it (IRONIC_HTTP_URL)."""
        return 'http://%s:%d' % (self.guest_host.get(host, host),
                                 self.http_port)

    def env(self, cluster, conductor):
        """The environment ironic-image renders its templates with, for
        the replica of ``conductor``."""
        return {
            'LISTEN_ALL_INTERFACES': 'false',
            'IRONIC_IP': conductor.host, 'IRONIC_URL_HOST': conductor.host,
            'HTTP_PORT': self.http_port, 'IRONIC_LISTEN_PORT': self.api_port,
            'IRONIC_HTTP_URL': self.image_server(conductor.host),
            'IRONIC_REVERSE_PROXY_SETUP': str(self.tls).lower(),
            'IRONIC_TLS_SETUP': str(self.tls).lower(),
            'IRONIC_PRIVATE_PORT': 'unix',
            'IRONIC_UNIX_SOCKET': cluster.api_socket(conductor),
            'IRONIC_SSL_PROTOCOL': '-ALL +TLSv1.2 +TLSv1.3',
            'IRONIC_CERT_FILE': self.cert, 'IRONIC_KEY_FILE': self.key,
            'IRONIC_CACERT_FILE': self.cert,
            'IRONIC_HTPASSWD': 'set', 'HTPASSWD_FILE': self.htpasswd,
            'IRONIC_EXPOSE_JSON_RPC': str(self.json_rpc).lower(),
            'IRONIC_RPC_HTPASSWD_FILE': self.htpasswd,
            'IRONIC_BOOT_CONFIG_RPC_PORT': cluster.shim_port,
            'IRONIC_BOOT_CONFIG_ALLOWED_CIDRS': self.allowed_cidrs,
            'HTTP_ROOT': conductor.http_root,
            'BOOT_CONFIG_EXEMPTION': EXEMPTION,
        }

    def drop_in(self, cluster, conductor):
        """The shipped ironic.conf drop-in of a replica (a ``config_files``
        callable of the cluster's spec)."""
        return recipes.metal3('ironic-boot-config.conf.j2',
                              self.env(cluster, conductor))

    def start_httpd(self, cluster, conductor, name=None, env=None):
        """The replica's httpd (before the cluster starts): its Process.
        ``name`` and ``env`` (variables over the replica's): another
        httpd, with only the image server (plain HTTP on HTTP_PORT)."""
        extra = env or {}
        name = name or 'httpd-%d' % conductor.index
        env = dict(self.env(cluster, conductor), **extra)
        env['HTTPD_CONF_DIR_D'] = os.path.join(cluster.workdir, name,
                                               'conf.d')
        os.makedirs(env['HTTPD_CONF_DIR_D'], exist_ok=True)
        with open(os.path.join(env['HTTPD_CONF_DIR_D'], 'boot-config.conf'),
                  'w') as f:
            f.write(recipes.metal3('httpd-boot-config.conf.j2', env))
        body = recipes.metal3('httpd.conf.j2', env, fixture=True)
        tls = self.tls and not extra
        if tls:
            body += recipes.metal3('httpd-ironic-api.conf.j2', env,
                                   fixture=True)
        ports = [(conductor.host, int(env['HTTP_PORT']))] + (
            [(conductor.host, self.api_port)] if tls else [])
        proc = apache.start(cluster.workdir, body, name=name, ports=ports)
        cluster.processes.append(proc)
        return proc

    def start_httpds(self, cluster):
        """``before_start`` of the cluster: each replica's image server is
        its httpd, which the clients go through too (TLS, Basic auth)."""
        for conductor in cluster.conductors.values():
            conductor.http_port = self.http_port
            conductor.http_url = self.image_server(conductor.host)
            self.start_httpd(cluster, conductor)
            if self.tls:
                cluster.reach_api_at('https://%s:%d' % (conductor.host,
                                                        self.api_port),
                                     host=conductor.host, auth=USER,
                                     verify=self.cert)

    def get(self, host, path, timeout=30):
        """GET ``path`` on the image server of the replica on ``host``, as
        a machine does: ``(status, body, seconds)``."""
        resp = client.raw_request(host, self.http_port, path,
                                  timeout=timeout)
        return resp.status, resp.body, resp.seconds

    def boot(self, host, mac, timeout=30):
        """The machine ``mac``'s request for its script through the image
        server of the replica on ``host``: ``(status, body, seconds)``."""
        return self.get(host, '/v1/boot/%s/boot.ipxe' % mac, timeout)

    def forwards(self, hosts):
        """QEMU's guestfwd to the image servers of the replicas on
        ``hosts`` (``vm.boot``'s ``forwards``)."""
        return [(self.guest_host[h], self.http_port, h, self.http_port)
                for h in hosts]

    def httpds(self, cluster, conductor):
        """The replica's running httpd (image server and TLS API)."""
        return [p for p in cluster.processes
                if p.name == 'httpd-%d' % conductor.index and p.alive()]

    def access_log(self, cluster, conductor):
        return os.path.join(cluster.workdir,
                            'httpd-%d-access.log' % conductor.index)


def ha_spec(httpd):
    """Metal3's HA shape with TLS, as ironic-standalone-operator runs it.

    An all-in-one ``ironic`` on each of REPLICAS over MariaDB, started with
    ``--config-dir`` (ironic.conf and the shipped drop-in), each API on its
    unix socket behind ``httpd`` (a :class:`Metal3`; ``before_start`` is
    its ``start_httpds``), Ironic's JSON-RPC with http_basic and TLS, a shim
    beside each replica with the same.
    """
    return ClusterSpec(
        db='mysql', conductor_hosts=REPLICAS, all_in_one=True,
        rpc_transport='json-rpc', api_per_host=True, api_unix_socket=True,
        middleware=False, config_dir=True,
        # An EFI executable, so UEFI iPXE's "kernel" succeeds and it
        # fetches the ramdisk next, as with a real deploy kernel.
        deploy_kernel=vm.IPXE_EFI, extra_conf=_ha_conf(httpd),
        config_files={'zz-boot-config.conf': httpd.drop_in},
        # The replica links its root script itself: its shim has no
        # template to write.
        shim_environment={'OS_PXE__IPXE_USE_BOOT_CONFIG_API': 'false'})


def _ha_conf(httpd):
    """Ironic's [json_rpc] as Metal3 sets it in HA. The shims and the
    APIs' client for them take its auth, credentials and TLS (the drop-in
    sets only their address and port)."""
    user, password = USER
    return {
        'json_rpc': dict(auth_type='http_basic', username=user,
                         password=password, auth_strategy='http_basic',
                         http_basic_auth_user_file=httpd.htpasswd,
                         port=str(JSON_RPC_PORT), use_ssl='true',
                         cafile=httpd.cert, cert_file=httpd.cert,
                         key_file=httpd.key),
        'boot_config': {'rpc_timeout': str(RPC_TIMEOUT)},
        # The ring notices a lost replica within a test's patience.
        'conductor': {'heartbeat_timeout': '10'},
        'DEFAULT': {'hash_ring_reset_interval': '3'},
    }


#: metal3-io/ironic-image's own per-node iPXE template (fixtures README).
IPXE_CONFIG_TEMPLATE = os.path.join(recipes.FIXTURES, 'metal3',
                                    'ipxe_config.template')


def ipxe_config_template(path, inject_cacert_bundle=True,
                         ipxe_tls_setup=False, ipxe_tls_port=8084):
    """Write Metal3's template to ``path`` as its configure-ironic.sh does:
    its ``sed "1 a\\ ..."`` puts three ``set`` lines after line 1 (from
    IPXE_TLS_SETUP, IRONIC_INJECT_IPA, IPXE_TLS_PORT). Returns ``path``."""
    with open(IPXE_CONFIG_TEMPLATE) as f:
        first, rest = f.read().split('\n', 1)
    inserted = ['{%%- set ipxe_tls_setup = %s %%}'
                % str(ipxe_tls_setup).lower(),
                '{%%- set inject_cacert_bundle = %s %%}'
                % str(inject_cacert_bundle).lower(),
                '{%%- set ipxe_tls_port = %d %%}' % ipxe_tls_port]
    with open(path, 'w') as f:
        f.write('\n'.join([first] + inserted + [rest]))
    return str(path)


@contextlib.contextmanager
def secrets(addresses):
    """``(certificate, key, htpasswd)`` for the replicas on ``addresses``,
    in a directory httpd's workers (www-data) can read; removed after."""
    directory = tempfile.mkdtemp(prefix='ibc-metal3-secrets-')
    os.chmod(directory, 0o755)
    try:
        cert, key = tls.self_signed(directory, addresses, 'metal3')
        yield cert, key, htpasswd(os.path.join(directory, 'htpasswd'),
                                  [USER])
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def htpasswd(path, users):
    """An htpasswd file that httpd and Ironic's http_basic both read:
    bcrypt, as ``htpasswd -B`` writes it ($2y$)."""
    import bcrypt
    with open(path, 'w') as f:
        for user, password in users:
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4))
            f.write('%s:%s\n' % (user, '$2y$' + hashed.decode()[4:]))
    os.chmod(path, 0o644)
    return path


def _port_on_all(port, hosts):
    """``port`` if it is free on every one of ``hosts``, else one that is."""
    import socket
    try:
        for host in hosts:
            with socket.socket() as s:
                s.bind((host, port))
    except OSError:
        return net.free_port_on_all(list(hosts))
    return port
