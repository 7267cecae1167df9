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

"""What the bench measures, as types: the rows it runs and their results."""

import dataclasses
import typing

from tests.harness import load


class Row(typing.NamedTuple):
    """A row of the comparison: wrk over ``paths`` of ``url``."""

    key: str
    label: str
    url: str
    paths: list
    headers: tuple = ()


@dataclasses.dataclass
class Measured:
    """A row measured: the wrk run of its median round, and what each
    process spent on it."""

    label: str
    wrk: load.WrkRun
    #: {process: CPU milliseconds per request}
    cpu_ms: dict
    #: Every round's 2xx req/s, in the order they ran.
    rounds_rps: list = dataclasses.field(default_factory=list)

    @property
    def rps(self):
        """2xx answers a second: a refusal is not throughput."""
        return self.wrk.served_rps

    def errors(self):
        """How many requests failed, and how: "6 (2 non-2xx, 4 timeouts)"."""
        w = self.wrk
        kinds = [('non-2xx', w.non2xx), ('timeouts', w.timeouts),
                 ('socket errors', w.socket_errors - w.timeouts)]
        said = ', '.join('%d %s' % (n, kind) for kind, n in kinds if n)
        return '%d (%s)' % (w.errors, said) if w.errors else '0'


def median(rounds: list) -> Measured:
    """The round with the median 2xx req/s, labelled as such."""
    chosen = sorted(rounds, key=lambda m: m.rps)[len(rounds) // 2]
    label = chosen.label
    if len(rounds) > 1:
        label += ' (median of %d)' % len(rounds)
    return dataclasses.replace(chosen, label=label,
                               rounds_rps=[m.rps for m in rounds])


@dataclasses.dataclass
class Results:
    """Everything one run of the bench measured: what the report says."""

    #: {Row.key: Measured}, in the order of the comparison's rows
    comparison: dict
    #: [(nodes, Measured)], fewest nodes first
    scaling: list
    storm: Measured
    #: {process: MB resident after the comparison}
    rss: dict
    #: Bytes of the per-node script every boot row serves.
    body_size: int
    #: {Row.key: Measured} of the all-in-one ironic
    all_in_one: dict = dataclasses.field(default_factory=dict)
    #: [storms.FrontEndRun]
    storms: list = dataclasses.field(default_factory=list)
