"""nginx from Debian's package, with one server block of the caller's."""

import os
import shutil

from tests.harness import net
from tests.harness import process


def start(workdir, server, access_log=True):
    """nginx on a free loopback port with ``server`` as the body of its one
    server block; every path it writes stays under ``workdir``.

    :returns: (:class:`~tests.harness.process.Process`, base URL).
    """
    port = net.free_port()
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
    proc = process.Process('nginx', [shutil.which('nginx') or 'nginx', '-c',
                                     conf, '-p', workdir],
                           os.path.join(workdir, 'nginx.log'))

    def up():
        if not proc.alive():
            raise RuntimeError('nginx exited:\n%s' % proc.log())
        return net.listening('127.0.0.1', port)

    net.wait_for(up, 30, 'nginx')
    return proc, 'http://127.0.0.1:%d' % port
