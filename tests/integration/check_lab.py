#!/usr/bin/env python
"""An independent look at the cloud: reads it with boto3 and compares it with lab.md.

The expected values are written out here from ../shared/spec/lab.md on purpose, not read from
the roles' defaults, so that a wrong default fails this check.

    check_lab.py present [--stack lab]   every Task 1-3 resource exactly once, wired as lab.md says
    check_lab.py present --nat-mode per_az   ... with issue 20's NAT gateway and private route table per zone
    check_lab.py absent  [--stack lab]   nothing of the stack is left
    check_lab.py egress  [--stack lab]   only the private subnets' way out (during a switch of NAT mode)

Whatever the mode, each private subnet must route 0.0.0.0/0 through an available NAT gateway of
the VPC (per_az: of its own zone).
"""
import argparse
import os
import sys

import boto3

REGION = "ap-northeast-2"
STACK_TAG = "ha_web:stack"
VPC = ("VPC-Lab", "10.0.0.0/16")
SUBNETS = {  # Name: (CIDR, AZ, public)
    "Public subnet A": ("10.0.10.0/24", "ap-northeast-2a", True),
    "Private subnet A": ("10.0.100.0/24", "ap-northeast-2a", False),
    "Public subnet C": ("10.0.20.0/24", "ap-northeast-2c", True),
    "Private subnet C": ("10.0.200.0/24", "ap-northeast-2c", False),
}
ALB_SG, INSTANCE_SG = "Web-ALB-SG", "ASG-Web-Inst-SG"
TARGET_GROUP, LOAD_BALANCER = "Web-TG", "Web-ALB"
LAUNCH_TEMPLATE, GROUP = "Web", "Web-ASG"
TEMPLATE_DESCRIPTION = "Immersion Day Web Instances Template \u2013 Web only"
IMAGE_NAME = "Web Server v1"
BUILDER_NAME = "Web server for custom AMI"


class Checker:
    def __init__(self, stack, nat_mode="single"):
        kwargs = {"region_name": REGION}
        if os.environ.get("AWS_ENDPOINT_URL"):
            kwargs["endpoint_url"] = os.environ["AWS_ENDPOINT_URL"]
        self.ec2 = boto3.client("ec2", **kwargs)
        self.elbv2 = boto3.client("elbv2", **kwargs)
        self.autoscaling = boto3.client("autoscaling", **kwargs)
        self.stack = stack
        self.nat_mode = nat_mode
        self.failures = []
        self.passed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
        return condition

    def equal(self, actual, expected, what):
        return self.check(actual == expected, "%s: expected %r, found %r" % (what, expected, actual))

    def name(self, base):
        return base if self.stack == "lab" else "%s-%s" % (self.stack, base)

    def stack_filter(self):
        return [{"Name": "tag:" + STACK_TAG, "Values": [self.stack]}]

    # --- Task 1 -------------------------------------------------------------------------
    def network(self):
        vpcs = self.ec2.describe_vpcs(Filters=self.stack_filter())["Vpcs"]
        if not self.equal(len(vpcs), 1, "VPCs of the stack"):
            return None
        vpc = vpcs[0]
        vpc_id = vpc["VpcId"]
        tags = {t["Key"]: t["Value"] for t in vpc.get("Tags", [])}
        self.equal(tags.get("Name"), self.name(VPC[0]), "VPC Name")
        self.equal(vpc["CidrBlock"], VPC[1], "VPC CIDR")
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        self.equal(len(subnets), 4, "subnets in the VPC")
        by_name = {}
        for subnet in subnets:
            name = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}.get("Name")
            by_name.setdefault(name, []).append(subnet)
        for base, (cidr, az, _public) in SUBNETS.items():
            found = by_name.get(self.name(base), [])
            if self.equal(len(found), 1, "subnet %r" % self.name(base)):
                self.equal(found[0]["CidrBlock"], cidr, "%s CIDR" % base)
                self.equal(found[0]["AvailabilityZone"], az, "%s AZ" % base)
        ids = {base: by_name[self.name(base)][0]["SubnetId"] for base in SUBNETS if len(by_name.get(self.name(base), [])) == 1}

        igws = self.ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
        self.equal(len(igws), 1, "internet gateways attached to the VPC")
        igw_id = igws[0]["InternetGatewayId"] if igws else None

        nats = self.ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                       {"Name": "state", "Values": ["pending", "available"]}])["NatGateways"]
        # (NAT gateway Name, its public subnet, private route table, its private subnets) of the mode
        layout = [("VPC-Lab-NAT", "Public subnet A", "Private route", ("Private subnet A", "Private subnet C"))]
        if self.nat_mode == "per_az":
            layout = [("VPC-Lab-NAT-%s" % az, "Public subnet %s" % az, "Private route %s" % az, ("Private subnet %s" % az,)) for az in "AC"]
        self.equal(len(nats), len(layout), "NAT gateways in the VPC")
        eips = self.ec2.describe_addresses(Filters=self.stack_filter())["Addresses"]
        self.equal(len(eips), len(layout), "Elastic IPs of the stack")
        self.equal([e.get("Domain") for e in eips], ["vpc"] * len(eips), "Elastic IP domain")
        nat_by_name = {}
        for nat in nats:
            nat_by_name.setdefault({t["Key"]: t["Value"] for t in nat.get("Tags", [])}.get("Name"), []).append(nat)
        routes = [("Public route", "GatewayId", igw_id, ("Public subnet A", "Public subnet C"))]
        for nat_name, subnet, table, members in layout:
            found = nat_by_name.get(self.name(nat_name), [])
            nat_id = found[0]["NatGatewayId"] if found else None
            if self.equal(len(found), 1, "NAT gateway %r" % self.name(nat_name)):
                self.equal(found[0]["SubnetId"], ids.get(subnet), "%s subnet (%s)" % (nat_name, subnet))
                self.check(found[0]["NatGatewayAddresses"][0].get("AllocationId") in [e["AllocationId"] for e in eips],
                           "%s uses an Elastic IP of the stack" % nat_name)
            routes.append((table, "NatGatewayId", nat_id, members))

        tables = self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
        named = {}
        for table in tables:
            name = {t["Key"]: t["Value"] for t in table.get("Tags", [])}.get("Name")
            named.setdefault(name, []).append(table)
        self.equal(sorted(n for n in named if n and self.name("Private route") in n), sorted(self.name(r[0]) for r in routes[1:]),
                   "private route tables")
        self.egress(vpc_id, tables, subnets)
        for base, target_key, target, members in routes:
            found = named.get(self.name(base), [])
            if not self.equal(len(found), 1, "route table %r" % self.name(base)):
                continue
            routes = {r.get("DestinationCidrBlock"): r for r in found[0]["Routes"]}
            self.equal(routes.get("10.0.0.0/16", {}).get("GatewayId"), "local", "%s 10.0.0.0/16 -> local" % base)
            self.equal(routes.get("0.0.0.0/0", {}).get(target_key), target, "%s 0.0.0.0/0 target" % base)
            associated = sorted(a["SubnetId"] for a in found[0].get("Associations", []) if a.get("SubnetId"))
            self.equal(associated, sorted(ids.get(m) for m in members), "%s associations" % base)
        return {"vpc_id": vpc_id, "subnets": ids}

    def egress(self, vpc_id, tables, subnets):
        """Each private subnet routes 0.0.0.0/0 through an available NAT gateway of the VPC (per_az: of its zone)."""
        available = {n["NatGatewayId"]: n for n in self.ec2.describe_nat_gateways(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "state", "Values": ["available"]}])["NatGateways"]}
        zone_of = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
        private = [s for s in subnets if {t["Key"]: t["Value"] for t in s.get("Tags", [])}.get("Name", "").startswith(self.name("Private subnet"))]
        self.equal(len(private), 2, "private subnets whose way out is checked")
        for subnet in private:
            name = {t["Key"]: t["Value"] for t in subnet.get("Tags", [])}["Name"]
            held = [t for t in tables if any(a.get("SubnetId") == subnet["SubnetId"] for a in t.get("Associations", []))]
            if not self.equal(len(held), 1, "route tables of %s" % name):
                continue
            route = [r for r in held[0]["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
            nat = available.get(route[0].get("NatGatewayId")) if route else None
            self.check(nat is not None and route[0].get("State", "active") == "active",
                       "%s routes 0.0.0.0/0 through an available NAT gateway, found %r" % (name, route))
            if nat is not None and self.nat_mode == "per_az":
                self.equal(zone_of.get(nat.get("SubnetId")), subnet["AvailabilityZone"], "zone of the NAT gateway of %s" % name)

    # --- Task 2 -------------------------------------------------------------------------
    def image(self):
        images = self.ec2.describe_images(Owners=["self"], Filters=self.stack_filter())["Images"]
        self.equal(len(images), 1, "self-owned AMIs of the stack")
        self.check(all(i["Name"].startswith(self.name("Web Server")) or i["Name"].startswith("Web Server") for i in images),
                   "AMI names start with 'Web Server': %r" % [i["Name"] for i in images])
        if self.stack == "lab" and images:
            self.equal(images[0]["Name"], IMAGE_NAME, "AMI name")
        self.check(all(i["State"] == "available" for i in images), "AMIs available: %r" % [i["State"] for i in images])
        builders = self.ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [self.name(BUILDER_NAME), BUILDER_NAME]},
                                                        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
                                               + self.stack_filter())["Reservations"]
        self.equal(sum(len(r["Instances"]) for r in builders), 0, "builder instances left")
        return images[0]["ImageId"] if images else None

    # --- Task 3 -------------------------------------------------------------------------
    def groups_by_name(self, vpc_id):
        groups = self.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
        named = {}
        for group in groups:
            named.setdefault(group["GroupName"], []).append(group)
        return named

    def load_balancing(self, network, image_id):
        vpc_id = network["vpc_id"]
        groups = self.groups_by_name(vpc_id)
        alb_sg = groups.get(self.name(ALB_SG), [])
        inst_sg = groups.get(self.name(INSTANCE_SG), [])
        self.equal(len(alb_sg), 1, "security group %s" % ALB_SG)
        self.equal(len(inst_sg), 1, "security group %s" % INSTANCE_SG)
        alb_sg_id = alb_sg[0]["GroupId"] if alb_sg else None
        inst_sg_id = inst_sg[0]["GroupId"] if inst_sg else None
        if alb_sg:
            http = [p for p in alb_sg[0]["IpPermissions"] if p.get("FromPort") == 80]
            self.check(http and any(r["CidrIp"] == "0.0.0.0/0" for r in http[0].get("IpRanges", [])), "Web-ALB-SG allows HTTP from anywhere")
        if inst_sg:
            self.equal(inst_sg[0]["Description"], "HTTP Allow", "ASG-Web-Inst-SG description")
            perms = inst_sg[0]["IpPermissions"]
            self.equal(len(perms), 1, "ASG-Web-Inst-SG inbound rules")
            if perms:
                perm = perms[0]
                self.equal((perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort")), ("tcp", 80, 80), "ASG-Web-Inst-SG rule port")
                self.equal([g["GroupId"] for g in perm.get("UserIdGroupPairs", [])], [alb_sg_id], "ASG-Web-Inst-SG source is only Web-ALB-SG")
                self.equal(perm.get("IpRanges", []), [], "ASG-Web-Inst-SG has no CIDR source")

        tgs = [tg for tg in self.elbv2.describe_target_groups()["TargetGroups"] if tg["TargetGroupName"] == self.name(TARGET_GROUP)]
        tg_arn = None
        if self.equal(len(tgs), 1, "target group %s" % TARGET_GROUP):
            tg = tgs[0]
            tg_arn = tg["TargetGroupArn"]
            self.equal((tg["Protocol"], tg["Port"], tg["TargetType"], tg["VpcId"]), ("HTTP", 80, "instance", vpc_id), "Web-TG protocol/port/type/VPC")
        lbs = [lb for lb in self.elbv2.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == self.name(LOAD_BALANCER)]
        if self.equal(len(lbs), 1, "load balancer %s" % LOAD_BALANCER):
            lb = lbs[0]
            self.equal((lb["Type"], lb["Scheme"]), ("application", "internet-facing"), "Web-ALB type and scheme")
            self.equal(sorted(z["SubnetId"] for z in lb["AvailabilityZones"]),
                       sorted([network["subnets"].get("Public subnet A"), network["subnets"].get("Public subnet C")]), "Web-ALB subnets")
            self.equal(lb.get("SecurityGroups"), [alb_sg_id], "Web-ALB security groups")
            listeners = self.elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
            http = [l for l in listeners if l["Port"] == 80]
            if self.equal(len(http), 1, "HTTP:80 listeners"):
                self.equal(http[0]["Protocol"], "HTTP", "listener protocol")
                actions = http[0]["DefaultActions"]
                self.equal([(a["Type"], a.get("TargetGroupArn")) for a in actions], [("forward", tg_arn)], "listener forwards to Web-TG")

        templates = self.ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": [self.name(LAUNCH_TEMPLATE)]}])["LaunchTemplates"]
        if self.equal(len(templates), 1, "launch template %s" % LAUNCH_TEMPLATE):
            template_id = templates[0]["LaunchTemplateId"]
        else:
            template_id = None
        groups = [g for g in self.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] if g["AutoScalingGroupName"] == self.name(GROUP)]
        if not self.equal(len(groups), 1, "Auto Scaling group %s" % GROUP):
            return
        group = groups[0]
        spec = group.get("LaunchTemplate") or {}
        self.equal(spec.get("LaunchTemplateId"), template_id, "group's launch template")
        version = spec.get("Version", "")
        self.check(version.isdigit(), "group uses a numbered template version, found %r" % version)
        if template_id and version.isdigit():
            data = self.ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=[version])["LaunchTemplateVersions"][0]
            self.equal(data.get("VersionDescription"), TEMPLATE_DESCRIPTION, "template version description")
            d = data["LaunchTemplateData"]
            self.equal(d.get("ImageId"), image_id, "template AMI is the custom AMI")
            self.equal(d.get("InstanceType"), "t2.micro", "template instance type")
            sgs = d.get("SecurityGroupIds") or [g for ni in d.get("NetworkInterfaces", []) for g in ni.get("Groups", [])]
            self.equal(sgs, [inst_sg_id], "template security group")
            self.equal(d.get("MetadataOptions", {}).get("HttpTokens"), "required", "template IMDSv2 required")
        self.equal(sorted(group["VPCZoneIdentifier"].split(",")),
                   sorted([network["subnets"].get("Private subnet A"), network["subnets"].get("Private subnet C")]), "group subnets")
        self.equal(group["TargetGroupARNs"], [tg_arn], "group target group")
        self.equal((group["MinSize"], group["MaxSize"]), (2, 4), "group min/max")
        self.check(2 <= group["DesiredCapacity"] <= 4, "group desired capacity in [2, 4]")
        self.check(len(group.get("EnabledMetrics", [])) > 0, "group metrics collection enabled")
        name_tags = [t for t in group.get("Tags", []) if t["Key"] == "Name"]
        self.equal([(t["Value"], t["PropagateAtLaunch"]) for t in name_tags], [(self.name("ASG-Web-Instance"), True)], "group Name tag")
        policies = self.autoscaling.describe_policies(AutoScalingGroupName=group["AutoScalingGroupName"])["ScalingPolicies"]
        tracking = [p for p in policies if p["PolicyType"] == "TargetTrackingScaling"]
        if self.equal(len(tracking), 1, "target tracking policies"):
            config = tracking[0]["TargetTrackingConfiguration"]
            self.equal(config["PredefinedMetricSpecification"]["PredefinedMetricType"], "ASGAverageCPUUtilization", "policy metric")
            self.equal(float(config["TargetValue"]), 30.0, "policy target")

    def present(self, tasks):
        network = self.network()
        image_id = self.image() if network and "2" in tasks else None
        if network and "3" in tasks:
            self.load_balancing(network, image_id)

    def egress_only(self):
        vpcs = self.ec2.describe_vpcs(Filters=self.stack_filter())["Vpcs"]
        if self.equal(len(vpcs), 1, "VPCs of the stack"):
            vpc = [{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}]
            self.egress(vpcs[0]["VpcId"], self.ec2.describe_route_tables(Filters=vpc)["RouteTables"],
                        self.ec2.describe_subnets(Filters=vpc)["Subnets"])

    def absent(self):
        f = self.stack_filter()
        nat_states = [{"Name": "state", "Values": ["pending", "available", "deleting"]}]
        live = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        groups = self.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        left = {
            "VPCs": self.ec2.describe_vpcs(Filters=f)["Vpcs"],
            "subnets": self.ec2.describe_subnets(Filters=f)["Subnets"],
            "internet gateways": self.ec2.describe_internet_gateways(Filters=f)["InternetGateways"],
            "route tables": self.ec2.describe_route_tables(Filters=f)["RouteTables"],
            "Elastic IPs": self.ec2.describe_addresses(Filters=f)["Addresses"],
            "NAT gateways": [n for n in self.ec2.describe_nat_gateways(Filters=nat_states)["NatGateways"]
                             if any(t["Key"] == STACK_TAG and t["Value"] == self.stack for t in n.get("Tags", []))],
            "security groups": self.ec2.describe_security_groups(Filters=f)["SecurityGroups"],
            "AMIs": self.ec2.describe_images(Owners=["self"], Filters=f)["Images"],
            "snapshots": self.ec2.describe_snapshots(OwnerIds=["self"], Filters=f)["Snapshots"],
            "instances": [i for r in self.ec2.describe_instances(Filters=f + live)["Reservations"] for i in r["Instances"]],
            "launch templates": self.ec2.describe_launch_templates(Filters=f)["LaunchTemplates"],
            "Auto Scaling groups": [g for g in groups if g["AutoScalingGroupName"] == self.name(GROUP)],
            "load balancers": [lb for lb in self.elbv2.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"] == self.name(LOAD_BALANCER)],
            "target groups": [tg for tg in self.elbv2.describe_target_groups()["TargetGroups"] if tg["TargetGroupName"] == self.name(TARGET_GROUP)],
        }
        for kind, found in left.items():
            self.equal(len(found), 0, "%s left" % kind)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expect", choices=["present", "absent", "egress"])
    parser.add_argument("--stack", default="lab")
    parser.add_argument("--tasks", default="123", help="lab tasks deployed (e.g. 1, 12, 123)")
    parser.add_argument("--nat-mode", default="single", choices=["single", "per_az"], help="network_nat_mode deployed")
    args = parser.parse_args()
    checker = Checker(args.stack, args.nat_mode)
    if args.expect == "present":
        checker.present(args.tasks)
    elif args.expect == "egress":
        checker.egress_only()
    else:
        checker.absent()
    for failure in checker.failures:
        print("FAIL %s" % failure)
    print("check_lab %s (stack %s): %d checks passed, %d failed" % (args.expect, args.stack, checker.passed, len(checker.failures)))
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
