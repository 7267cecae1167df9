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

"""tox plugin: Ctrl-C in ``tox -e demo`` stops the demo, and tox with it.

A terminal sends Ctrl-C's SIGINT to its whole foreground process group: to
tox and to the demo that tox runs. tox's own answer is to interrupt the
command again, kill it half a second later and report a failure, while the
demo needs a few seconds to stop the Ironic processes it started. When the
demo is all that tox runs, tox leaves SIGINT to the demo (which got the same
signal): the demo stops what it started, prints one line and exits 0, and
tox reports what it returned.
"""

import signal

from tox.plugin import impl


@impl
def tox_add_core_config(core_conf, state):
    if list(state.conf.options.env) == ['demo']:
        signal.signal(signal.SIGINT, _left_to_the_demo)


def _left_to_the_demo(signum, frame):
    """The demo has the same SIGINT and stops by itself."""
