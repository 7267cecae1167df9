"""The one way functional tests get a cluster: ``launch``.

::

    @pytest.fixture(scope='module')
    def cluster(launch):
        with launch(db='mysql', auth_strategy='http_basic') as c:
            yield c

It demands the local services the spec needs (a failure in CI, a skip
elsewhere), gives the cluster a fresh work directory, starts it, and stops
everything it started when the ``with`` ends, however it ends.
"""

import contextlib

import pytest

from tests.harness import cluster as cluster_mod
from tests.harness import database
from tests.harness import services
from tests.harness.spec import ClusterSpec


@pytest.fixture(scope='module')
def launch(tmp_path_factory):
    @contextlib.contextmanager
    def launch_(name='cluster', **fields):
        spec = ClusterSpec(**fields)
        if database.SERVICE[spec.db]:
            services.require(database.SERVICE[spec.db])
        if spec.rpc_transport == 'oslo':
            services.require('rabbitmq')
        workdir = str(tmp_path_factory.mktemp(name))
        with cluster_mod.IronicCluster(workdir, spec) as cluster:
            yield cluster
    return launch_
