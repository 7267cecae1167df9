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

"""The shipped recipes (``etc/metal3``, ``etc/bifrost``) and the upstream
configuration they go into (``tests/functional/fixtures``), rendered as
each tool renders its own templates: Metal3's image with jinja2 and the
environment as ``env``, Bifrost with Ansible's jinja2 and its variables
(and Ansible's ``bool`` filter)."""

import os

import jinja2

from tests.harness import cluster as cluster_mod

ETC = os.path.join(cluster_mod.ROOT, 'etc')
FIXTURES = os.path.join(cluster_mod.ROOT, 'tests', 'functional', 'fixtures')


def _read(*parts):
    with open(os.path.join(*parts)) as f:
        return f.read()


def metal3(name, env, fixture=False):
    """``etc/metal3/<name>`` (or the Metal3 fixture ``name``) rendered as
    ironic-image renders its templates."""
    text = _read(FIXTURES if fixture else ETC, 'metal3', name)
    if not name.endswith('.j2'):
        return text
    return jinja2.Template(text).render(env={k: str(v)
                                             for k, v in env.items()})


def _ansible_bool(value):
    return str(value).strip().lower() in ('1', 'true', 'yes', 'on', 'y')


def bifrost(name, variables, fixture=False):
    """``etc/bifrost/<name>`` (or the Bifrost fixture ``name``) rendered
    as Ansible's template module renders Bifrost's templates."""
    environment = jinja2.Environment()
    environment.filters['bool'] = _ansible_bool
    return environment.from_string(
        _read(FIXTURES if fixture else ETC, 'bifrost', name)).render(
            **variables)


def balancer(name, variables):
    """``etc/balancer/<name>`` rendered with jinja2 and ``variables``."""
    return jinja2.Template(_read(ETC, 'balancer', name)).render(**variables)
