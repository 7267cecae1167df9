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


"""The API side: the filter in front of Ironic's API, and what it calls."""

#: The subtree the filter owns, matched on PATH_INFO (any SCRIPT_NAME).
PREFIX = '/v1/boot'
#: The operators' authenticated twin: why would PREFIX/<MAC>/<NAME> 404?
EXPLAIN_PREFIX = '/v1/boot-explain'
