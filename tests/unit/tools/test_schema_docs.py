# Copyright: Contributors to the novita.cloud collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoint schema drives the argument spec, the mapping, the validation and the modules' docs (tools/schema_docs.py)."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.novita.cloud.plugins.module_utils import endpoint
from ansible_collections.novita.cloud.plugins.module_utils.schema import Option, Codec, Schema
from ansible_collections.novita.cloud.tests.unit.helpers import ROOT, load_file, module_docs

schema_docs = load_file("schema_docs", "tools/schema_docs.py")

MODULES = schema_docs.MODULES


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def one_line(data):
    """Documentation data with one-paragraph descriptions as strings, the way the generated YAML writes them."""
    if isinstance(data, dict):
        return dict((k, v[0] if k == "description" and isinstance(v, list) and len(v) == 1 else one_line(v)) for k, v in data.items())
    return data


def made_up_schema():
    """The endpoint schema with one more field: ``made_up``, API key ``madeUp``, at most 12 characters."""
    row = Option("made_up", "str", ["A field that exists only in this test."], api=["madeUp"], codec=Codec("str"), max_length=12,
                 returned={"description": ["The made-up field."], "sample": "abc"})
    return Schema(endpoint.ENDPOINT_OPTIONS + (row,), endpoint.ENDPOINT_RETURNS + ("made_up",), noun="an endpoint")


def test_checked_in_docs_and_version_match_the_schema():
    assert schema_docs.differences() == []


def test_a_doc_line_edited_by_hand_is_reported():
    path = "plugins/modules/novita_endpoint_fleet.py"
    text = read(path)
    assert "          - At most 220 characters.\n" in text
    edited = text.replace("          - At most 220 characters.\n", "          - At most 200 characters.\n", 1)
    diffs = schema_docs.differences(files={path: edited})
    assert len(diffs) == 1
    assert "-          - At most 200 characters." in diffs[0] and "+          - At most 220 characters." in diffs[0]
    assert schema_docs.main(["--check"]) == 0


def test_the_generated_blocks_parse_to_the_schema_data():
    for path, docstring, name, dummy, data in schema_docs.blocks():
        docs = module_docs(read(path))[docstring]
        info = path.endswith("_info.py")
        if docstring == "DOCUMENTATION":
            options = docs["options"]["endpoints"]["suboptions"] if path.endswith("_fleet.py") else \
                dict((key, docs["options"].get(key)) for key in data)
            assert options == one_line(data), path
        elif name == "api_requests":
            assert {"api_requests": docs["api_requests"]} == one_line(data), path
        else:
            key = {"endpoint keys": "endpoints" if info else "endpoint", "failure keys": "failure",
                   "registry_auth keys": "registry_auths" if info else "registry_auth",
                   "network storage keys": "network_storages" if info else "network_storage"}[name]
            # Hand-written keys may follow the generated ones (an info module's used_by).
            contains = docs[key]["contains"]
            assert dict((k, contains.get(k)) for k in data) == one_line(data), (path, name)


def test_fleet_and_endpoint_option_docs_agree():
    single = module_docs(read("plugins/modules/novita_endpoint.py"))["DOCUMENTATION"]["options"]
    fleet = module_docs(read("plugins/modules/novita_endpoint_fleet.py"))["DOCUMENTATION"]["options"]["endpoints"]["suboptions"]
    assert sorted(set(single) - set(fleet)) == ["id", "wait", "wait_timeout"] and set(fleet) < set(single)
    for name in fleet:
        if name == "name":
            continue
        # The same text but for the references, which in the fleet point into endpoints[].
        as_single = yaml.safe_load(yaml.safe_dump(fleet[name], width=10000).replace("O(endpoints[].", "O(")
                                   .replace("RV(endpoints[].id)", "RV(endpoint.id)"))
        assert as_single == single[name], name
    # The two texts that had drifted apart.
    assert "storage_name" in " ".join(fleet["cluster_id"]["description"])
    assert any("are masked in the output and the diff" in text for text in fleet["envs"]["description"])


def _option_paths(options, prefix=""):
    for name, data in (options or {}).items():
        path = prefix + name
        yield path
        sub = data.get("suboptions")
        if sub:
            yield from _option_paths(sub, path + ("[]." if data.get("type") == "list" else "."))


def _return_paths(returns, prefix=""):
    for name, data in (returns or {}).items():
        path = prefix + name
        yield path
        if data.get("contains"):
            yield from _return_paths(data["contains"], path + ("[]." if data.get("type") == "list" else "."))


def test_every_option_and_return_reference_of_every_module_resolves():
    fragment = yaml.safe_load(read("plugins/doc_fragments/novita.py").split('DOCUMENTATION = r"""')[1].split('"""')[0])
    for module in MODULES:
        docs = module_docs(read("plugins/modules/%s.py" % module))
        options = set(_option_paths(dict(fragment["options"], **docs["DOCUMENTATION"]["options"])))
        returns = set(_return_paths(docs["RETURN"]))
        text = yaml.safe_dump(docs)
        for kind, target in re.findall(r"\b(O|RV)\(([^)#=]+)(?:=[^)]*)?\)", text):
            assert target in (options if kind == "O" else returns), "%s: %s(%s) names no %s" % (
                module, kind, target, "option" if kind == "O" else "returned key")


def test_a_made_up_field_is_one_row_and_appears_everywhere():
    schema = made_up_schema()
    # argument spec of both modules
    assert endpoint.endpoint_argument_spec(schema)["made_up"] == {"type": "str"}
    assert endpoint.declaration_argument_spec(schema)["made_up"] == {"type": "str"}
    # the API body, from a task laid over the current endpoint
    current = schema.model_from_api({"name": "x", "madeUp": "old", "ports": [{"port": 80}]})
    assert current["made_up"] == "old"
    desired = schema.apply_options(current, {"made_up": "new"})
    assert schema.build_payload(desired, for_create=False)["madeUp"] == "new"
    # the model read back from the API, and the returned endpoint
    assert schema.model_from_api({"madeUp": 42})["made_up"] == "42"
    assert endpoint.endpoint_result({"id": "e1", "madeUp": "abc"}, (), schema=schema)["made_up"] == "abc"
    # validation: its length limit
    assert endpoint.validate_options({"made_up": "x" * 13}, schema=schema) == ["made_up: 13 characters is longer than the allowed 12"]
    assert endpoint.validate_options({"made_up": "x" * 12}, schema=schema) == []
    # both modules' option docs and the returned keys
    files = schema_docs.expected_files(schema)
    single = module_docs(files["plugins/modules/novita_endpoint.py"])
    fleet = module_docs(files["plugins/modules/novita_endpoint_fleet.py"])
    info = module_docs(files["plugins/modules/novita_endpoint_info.py"])
    assert single["DOCUMENTATION"]["options"]["made_up"] == {
        "description": ["A field that exists only in this test.", "At most 12 characters."], "type": "str"}
    assert fleet["DOCUMENTATION"]["options"]["endpoints"]["suboptions"]["made_up"] == single["DOCUMENTATION"]["options"]["made_up"]
    assert single["RETURN"]["endpoint"]["contains"]["made_up"]["sample"] == "abc"
    assert info["RETURN"]["endpoints"]["contains"]["made_up"]["description"] == "The made-up field."
    # and the checked-in files, generated from the real schema, do not have it
    assert "made_up" not in read("plugins/modules/novita_endpoint.py")


def test_the_derived_tables_hold_what_the_rows_say():
    schema = endpoint.ENDPOINT_SCHEMA
    assert [f.name for f in schema.fields_where("immutable")] == ["product_id", "app_name", "rootfs_size"]
    assert [f.name for f in schema.fields_where("omit_when_empty")] == ["app_name", "cluster_id"]
    assert [f.name for f in schema.fields_where("required_to_create")] == ["name", "product_id", "image.image", "port"]
    assert [(f.name, f.option.limit) for f in schema.fields_where("limit")] == [
        ("rootfs_size", "RootfsSize"), ("worker_config.min_num", "WorkerNum"), ("worker_config.max_num", "WorkerNum"),
        ("worker_config.free_timeout", "FreeTimeout"), ("worker_config.max_concurrent", "ConcurrencyNum"),
        ("worker_config.gpu_num", "GPUNum"), ("worker_config.request_timeout", "RequestTimeout")]
    assert [(f.name, f.api_path) for f in schema.fields if f.name in ("product_id", "port", "envs", "volume_mounts", "worker_config.gpu_num")] == [
        ("product_id", ("products",)), ("port", ("ports",)), ("worker_config.gpu_num", ("workerConfig", "gpuNum")),
        ("envs", ("envs",)), ("volume_mounts", ("volumeMounts",))]
