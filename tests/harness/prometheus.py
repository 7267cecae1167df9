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

"""A real Prometheus server (Debian's ``prometheus``) scraping targets of
the test every second, and its HTTP query API."""

import contextlib
import os

import requests

from tests.harness import net
from tests.harness import process
from tests.harness import services

CONFIG = '''global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: %(job)s
    metrics_path: /metrics
    static_configs:
      - targets: [%(targets)s]
'''


class Prometheus:
    """Prometheus on a free port of 127.0.0.1, its data in ``workdir``."""

    def __init__(self, workdir, targets, job='boot-config-api'):
        program = services.require_program('prometheus')
        self.job = job
        os.makedirs(os.path.join(workdir, 'prometheus'), exist_ok=True)
        config = os.path.join(workdir, 'prometheus.yml')
        with open(config, 'w') as f:
            f.write(CONFIG % {'job': job, 'targets': ', '.join(
                "'%s'" % target for target in targets)})
        port = net.free_port()
        self.url = 'http://127.0.0.1:%d' % port
        self.process = process.Process('prometheus', [
            program, '--config.file=' + config,
            '--storage.tsdb.path=' + os.path.join(workdir, 'prometheus'),
            '--web.listen-address=127.0.0.1:%d' % port,
            '--log.level=warn'], os.path.join(workdir, 'prometheus.log'))

        def ready():
            if not self.process.alive():
                raise RuntimeError('prometheus exited: %s'
                                   % self.process.log()[-2000:])
            with contextlib.suppress(requests.RequestException):
                return requests.get(self.url + '/-/ready',
                                    timeout=2).status_code == 200
        net.wait_for(ready, 60, 'prometheus at %s' % self.url)

    def query(self, promql):
        """The instant vector of ``promql``: ``{labels as a sorted tuple:
        value}``."""
        resp = requests.get(self.url + '/api/v1/query',
                            params={'query': promql}, timeout=10)
        resp.raise_for_status()
        return {tuple(sorted(r['metric'].items())): float(r['value'][1])
                for r in resp.json()['data']['result']}

    def scraped(self, timeout=30):
        """Wait until every target was scraped up."""
        net.wait_for(lambda: set(self.query('up{job="%s"}' % self.job)
                                 .values()) == {1.0},
                     timeout, 'prometheus scraping its targets')

    def stop(self):
        self.process.stop()
