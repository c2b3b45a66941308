"""module_utils/cloudwatch_dashboard.py with botocore Stubber: a dashboard is put only when it is
missing or its body differs as parsed JSON, tags go with the creation only, check mode calls
nothing but GetDashboard, and deleting a missing dashboard is no change."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.immersionday.ha_web.plugins.module_utils import cloudwatch_dashboard as dashboards

from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info import Retrying

NAME = "lab-ha-web"
ARN = "arn:aws:cloudwatch::123456789012:dashboard/lab-ha-web"
BODY = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {"markdown": "## lab"}}]}


def client():
    cloudwatch = boto3.client("cloudwatch", region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x")
    return cloudwatch, Stubber(cloudwatch)


def found(stub, body_text):
    stub.add_response("get_dashboard", {"DashboardName": NAME, "DashboardArn": ARN, "DashboardBody": body_text},
                      {"DashboardName": NAME})


def missing(stub):
    stub.add_client_error("get_dashboard", service_error_code="ResourceNotFound", service_message="Dashboard does not exist",
                          http_status_code=404, expected_params={"DashboardName": NAME})


def test_same_body_in_another_key_order_and_spacing_is_no_change():
    cloudwatch, stub = client()
    found(stub, json.dumps(BODY, indent=4))  # AWS answers the text as it was put
    with stub:
        result = dashboards.ensure_present(Retrying(cloudwatch), NAME, {"widgets": [dict(reversed(list(BODY["widgets"][0].items())))]})
    stub.assert_no_pending_responses()
    assert result["changed"] is False
    assert result["dashboard"] == {"name": NAME, "arn": ARN, "body": BODY}


def test_a_missing_dashboard_is_created_with_its_tags():
    cloudwatch, stub = client()
    missing(stub)
    stub.add_response("put_dashboard", {"DashboardValidationMessages": []},
                      {"DashboardName": NAME, "DashboardBody": dashboards.render_body(BODY),
                       "Tags": [{"Key": "ha_web:stack", "Value": "lab"}]})
    found(stub, dashboards.render_body(BODY))
    with stub:
        result = dashboards.ensure_present(Retrying(cloudwatch), NAME, json.dumps(BODY), tags={"ha_web:stack": "lab"})
    stub.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["dashboard"]["arn"] == ARN
    assert result["diff"]["before"] == "" and json.loads(result["diff"]["after"]) == BODY


def test_a_different_body_is_put_without_tags_and_its_warnings_returned():
    cloudwatch, stub = client()
    found(stub, json.dumps({"widgets": []}))
    stub.add_response("put_dashboard", {"DashboardValidationMessages": [{"DataPath": "/widgets/0", "Message": "odd"}]},
                      {"DashboardName": NAME, "DashboardBody": dashboards.render_body(BODY)})
    with stub:
        result = dashboards.ensure_present(Retrying(cloudwatch), NAME, BODY, tags={"ha_web:stack": "lab"})
    stub.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["validation_messages"] == [{"data_path": "/widgets/0", "message": "odd"}]
    assert result["dashboard"] == {"name": NAME, "arn": ARN, "body": BODY}
    assert json.loads(result["diff"]["before"]) == {"widgets": []}


def test_a_body_that_is_not_json_is_replaced():
    cloudwatch, stub = client()
    found(stub, "not json")
    stub.add_response("put_dashboard", {}, {"DashboardName": NAME, "DashboardBody": dashboards.render_body(BODY)})
    with stub:
        assert dashboards.ensure_present(Retrying(cloudwatch), NAME, BODY)["changed"] is True
    stub.assert_no_pending_responses()


def test_check_mode_reads_and_reports_only():
    cloudwatch, stub = client()
    missing(stub)
    found(stub, json.dumps({"widgets": []}))
    found(stub, json.dumps(BODY))
    with stub:
        created = dashboards.ensure_present(Retrying(cloudwatch), NAME, BODY, check_mode=True)
        updated = dashboards.ensure_present(Retrying(cloudwatch), NAME, BODY, check_mode=True)
        deleted = dashboards.ensure_absent(Retrying(cloudwatch), NAME, check_mode=True)
    stub.assert_no_pending_responses()  # no Put, no Delete
    assert created["changed"] and created["dashboard"] == {"name": NAME, "arn": None, "body": BODY}
    assert updated["changed"] and updated["dashboard"]["arn"] == ARN
    assert deleted["changed"] and deleted["dashboard"] is None and json.loads(deleted["diff"]["before"]) == BODY


def test_absent_deletes_the_dashboard_of_that_name_only():
    cloudwatch, stub = client()
    found(stub, json.dumps(BODY))
    stub.add_response("delete_dashboards", {}, {"DashboardNames": [NAME]})
    with stub:
        result = dashboards.ensure_absent(Retrying(cloudwatch), NAME)
    stub.assert_no_pending_responses()
    assert result["changed"] is True and result["diff"]["after"] == ""


def test_absent_when_missing_or_deleted_meanwhile_is_no_change():
    cloudwatch, stub = client()
    missing(stub)
    found(stub, json.dumps(BODY))
    stub.add_client_error("delete_dashboards", service_error_code="ResourceNotFound", http_status_code=404,
                          expected_params={"DashboardNames": [NAME]})
    with stub:
        assert dashboards.ensure_absent(Retrying(cloudwatch), NAME)["changed"] is False
        assert dashboards.ensure_absent(Retrying(cloudwatch), NAME)["changed"] is False
    stub.assert_no_pending_responses()


def test_other_errors_are_raised():
    cloudwatch, stub = client()
    stub.add_client_error("get_dashboard", service_error_code="AccessDenied", http_status_code=403)
    with stub:
        with pytest.raises(ClientError):
            dashboards.get_dashboard(Retrying(cloudwatch), NAME)


def test_parse_body():
    assert dashboards.parse_body('{"widgets": []}') == {"widgets": []}
    assert dashboards.parse_body({"widgets": ({"x": 1},)}) == {"widgets": [{"x": 1}]}
    assert dashboards.parse_body(None) is None
    with pytest.raises(ValueError):
        dashboards.parse_body("{")
