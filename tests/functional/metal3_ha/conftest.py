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

"""The tests of this directory run on Metal3's HA shape
(``metal3.ha_spec``): ``cluster``, three all-in-one replicas, each behind
its own Metal3 ``httpd``. Each test module gets a cluster of its own."""

import pytest

from tests.harness import metal3
from tests.harness import services
from tests.harness import vm


@pytest.fixture(scope='module')
def httpd():
    """Metal3's httpd in front of each replica (image server and TLS API),
    with the certificate and htpasswd they share."""
    services.require_program('apache2')
    with metal3.secrets(metal3.REPLICAS) as (cert, key, htpasswd):
        yield metal3.Metal3(metal3.REPLICAS, cert, key, htpasswd,
                            guest_host=metal3.GUEST, json_rpc=True)


@pytest.fixture(scope='module')
def cluster(launch, httpd):
    vm.require_qemu()
    with launch('metal3-ha', spec=metal3.ha_spec(httpd), traversable=True,
                before_start=httpd.start_httpds) as c:
        yield c
