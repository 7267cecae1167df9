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

"""The one way functional tests get a cluster: ``launch``.

::

    @pytest.fixture(scope='module')
    def cluster(launch):
        with launch(db='mysql', auth_strategy='http_basic') as c:
            yield c

or, for a shape the harness builds, ``launch(spec=metal3.ha_spec(...))``.
It demands the local services the spec needs (a failure in CI, a skip
elsewhere), gives the cluster a fresh work directory, starts it, and stops
everything it started when the ``with`` ends, however it ends.

``before_start(cluster)`` runs between building the cluster and starting it
(e.g. the proxies in front of its API: processes it appends to
``cluster.processes`` are stopped with the cluster). ``traversable=True``
puts the work directory where other users may read it (httpd's workers run
as www-data), removed at the end (kept with IBC_KEEP_WORKDIRS=1).
"""

import contextlib
import os
import shutil
import tempfile

import pytest

from tests.harness import cluster as cluster_mod
from tests.harness import database
from tests.harness import services
from tests.harness import vm
from tests.harness.spec import ClusterSpec


@pytest.fixture(scope='module')
def launch(tmp_path_factory):
    @contextlib.contextmanager
    def launch_(name='cluster', before_start=None, traversable=False,
                spec=None, **fields):
        spec = spec or ClusterSpec(**fields)
        if database.SERVICE[spec.db]:
            services.require(database.SERVICE[spec.db])
        if spec.rpc_transport == 'oslo':
            services.require('rabbitmq')
        if traversable:
            workdir = tempfile.mkdtemp(prefix='ibc-%s-' % name)
            os.chmod(workdir, 0o755)
        else:
            workdir = str(tmp_path_factory.mktemp(name))
        try:
            cluster = cluster_mod.IronicCluster(workdir, spec)
            try:
                if before_start is not None:
                    before_start(cluster)
                cluster.start()
                yield cluster
            finally:
                cluster.stop()
        finally:
            if traversable and not os.environ.get('IBC_KEEP_WORKDIRS'):
                shutil.rmtree(workdir, ignore_errors=True)
    return launch_


@pytest.fixture(scope='module')
def vm_cluster(launch):
    """The firmware tests' shape: ``with vm_cluster(name, **fields) as c``.

    Conductors A and B (``vm.CONDUCTORS``) on MariaDB, each with its own
    http_root served by an HTTP server of its own on ``serve_on``, which a
    machine under QEMU reaches at ``vm.GUEST_HOST``; ``fields`` of the
    :class:`ClusterSpec` over these.
    """
    @contextlib.contextmanager
    def vm_cluster_(name, serve_on='127.0.0.1', **fields):
        fields = dict(dict(db='mysql', conductor_hosts=vm.CONDUCTORS,
                           http_host=vm.GUEST_HOST), **fields)
        with launch(name, **fields) as cluster:
            cluster.serve_http(host=serve_on)
            yield cluster
    return vm_cluster_


@pytest.fixture(scope='module')
def node(cluster):
    """A node of the module's ``cluster`` in ``clean wait``."""
    node = cluster.client.create_node()
    cluster.client.to_clean_wait([node])
    return node
