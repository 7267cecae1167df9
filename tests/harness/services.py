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

"""Real local services the tests use; never mocked.

Where a service is down a test skips, except when IBC_REQUIRE_SERVICES is
set (``.ci/run`` sets it) or CI is true: then it fails, because a skipped
test is not a passed one.
"""

import os
import shutil
import socket

import pytest

SERVICES = {
    'mariadb': ('127.0.0.1', 3306),
    'postgresql': ('127.0.0.1', 5432),
    'rabbitmq': ('127.0.0.1', 5672),
}


def required():
    """In CI (``.ci/run`` sets IBC_REQUIRE_SERVICES; CI systems set CI)
    nothing may skip."""
    return bool(os.environ.get('IBC_REQUIRE_SERVICES')) or \
        os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def _unavailable(what):
    if required():
        pytest.fail('%s is required (IBC_REQUIRE_SERVICES is set) but is '
                    'not available' % what)
    pytest.skip('%s is not available' % what)


def require(name):
    """Fail or skip unless the service ``name`` accepts connections."""
    host, port = SERVICES[name]
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        _unavailable('%s at %s:%d' % (name, host, port))


def require_program(program):
    """Fail or skip unless ``program`` is on PATH; return its path."""
    path = shutil.which(program)
    if path is None:
        _unavailable('the program %s' % program)
    return path
