"""The stack_outputs module: one file per stack and region, rewritten only when it differs."""
import json

from ansible_collections.immersionday.ha_web.plugins.modules import stack_outputs
from ansible_collections.immersionday.ha_web.tests.unit.module_runner import run_module


def run(args, check=False):
    failed, result = run_module(stack_outputs, args, check)
    assert not failed, result
    return result


PARTS = {"network": {"vpc_id": "vpc-1"}, "image": None, "alb": {"url": "http://web.example/"}, "asg": None}


def test_one_stack_name_in_two_regions_writes_two_files(tmp_path):
    folder = tmp_path / "outputs"
    seoul = run({"path": str(folder), "stack_name": "lab", "region": "ap-northeast-2", "parts": PARTS})
    virginia = run({"path": str(folder), "stack_name": "lab", "region": "us-east-1", "parts": PARTS})
    assert seoul["changed"] and virginia["changed"]
    assert seoul["dest"] == str(folder / "lab.ap-northeast-2.json")
    assert virginia["dest"] == str(folder / "lab.us-east-1.json")
    assert sorted(p.name for p in folder.iterdir()) == ["lab.ap-northeast-2.json", "lab.us-east-1.json"]
    assert json.loads((folder / "lab.ap-northeast-2.json").read_text())["region"] == "ap-northeast-2"
    assert json.loads((folder / "lab.us-east-1.json").read_text())["region"] == "us-east-1"


def test_rerun_rewrites_nothing_and_check_mode_writes_nothing(tmp_path):
    args = {"path": str(tmp_path), "stack_name": "blue", "region": "ap-northeast-2", "parts": PARTS}
    planned = run(args, check=True)
    assert planned["changed"] and list(tmp_path.iterdir()) == []
    assert run(args)["changed"]
    assert not run(args)["changed"]
