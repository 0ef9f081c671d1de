"""The cloud deploy files (deploy/terraform, deploy/cloud-init,
deploy/systemd, deploy/grafana), checked without a cloud: Terraform is
parsed (tests/system/hcl.py) and its references, variables, security
groups, health checks and IAM policy are checked; the user data is
rendered the way Terraform renders it and handed to the tools that read
the result (cloud-init, promtool, amtool, the controller); the units go
through systemd-analyze; the Grafana files through promtool."""
import base64
import gzip
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess

import pytest

import hcl
from conftest import BIN, ROOT

DEPLOY = pathlib.Path(ROOT) / "deploy"
TERRAFORM = DEPLOY / "terraform"
# *-ha: the high-availability variants (two controllers, three etcd members;
# docs/cloud.md "High availability"); kind() is their cloud.
CLOUDS = ("exoscale", "aws", "linode", "exoscale-ha", "aws-ha")
SYSTEMD = DEPLOY / "systemd"
GRAFANA = DEPLOY / "grafana"
UNITS = ("poolscale-app", "poolscale-controller", "poolscale-lb", "poolscale-sd")


def kind(cloud):
    """The provider kind of a deploy/terraform directory (exoscale-ha: exoscale)."""
    return cloud.split("-")[0]


def ha(cloud):
    return cloud.endswith("-ha")


def run(*cmd, ok=True, env=None, timeout=120):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    out = (r.stdout + r.stderr).decode(errors="replace")
    if ok:
        assert r.returncode == 0, f"{' '.join(map(str, cmd))}: exit {r.returncode}\n{out}"
    return r.returncode, out


def need_yaml():
    try:
        import yaml
    except ImportError:
        pytest.fail("PyYAML is missing: scripts/deps installs python3-yaml")
    return yaml


def terraform():
    return shutil.which("terraform")


def terraform_env():
    env = dict(os.environ)
    env["CHECKPOINT_DISABLE"] = "1"  # no version check over the network
    env["TF_IN_AUTOMATION"] = "1"
    return env


# --- the Terraform model ---------------------------------------------------------

# Attributes a configuration may read from a resource besides the arguments
# it sets itself: the exported ("read-only") attributes of each type, from
# the providers' documentation (registry.terraform.io: exoscale/exoscale,
# hashicorp/aws, hashicorp/random), plus optional arguments that
# lifecycle.ignore_changes names. A type missing here fails the check.
RESOURCE_ATTRS = {
    "exoscale_instance_pool": {"id", "instances", "state", "virtual_machines"},
    "exoscale_nlb": {"id", "ip_address", "created_at", "services", "state"},
    "exoscale_nlb_service": {"id", "state"},
    "exoscale_compute_instance": {"id", "public_ip_address", "ipv6_address", "created_at",
                                  "mac_address", "private_network_ids"},
    "exoscale_security_group": {"id"},
    "exoscale_security_group_rule": {"id"},
    "exoscale_private_network": {"id"},
    "exoscale_anti_affinity_group": {"id"},
    # registry.terraform.io/providers/hashicorp/tls
    "tls_private_key": {"id", "private_key_pem", "private_key_pem_pkcs8", "private_key_openssh",
                        "public_key_pem", "public_key_openssh", "public_key_fingerprint_md5",
                        "public_key_fingerprint_sha256"},
    "tls_self_signed_cert": {"id", "cert_pem", "validity_start_time", "validity_end_time",
                             "ready_for_renewal"},
    "tls_cert_request": {"id", "cert_request_pem", "key_algorithm"},
    "tls_locally_signed_cert": {"id", "cert_pem", "validity_start_time", "validity_end_time",
                                "ready_for_renewal", "ca_key_algorithm"},
    "random_password": {"id", "result", "bcrypt_hash"},
    "aws_security_group": {"id", "arn", "owner_id"},
    "aws_vpc_security_group_ingress_rule": {"id", "arn", "security_group_rule_id"},
    "aws_vpc_security_group_egress_rule": {"id", "arn", "security_group_rule_id"},
    "aws_launch_template": {"id", "arn", "latest_version", "default_version"},
    "aws_autoscaling_group": {"id", "arn", "target_group_arns", "load_balancers"},
    "aws_lb": {"id", "arn", "arn_suffix", "dns_name", "zone_id"},
    "aws_lb_target_group": {"id", "arn", "arn_suffix"},
    "aws_lb_listener": {"id", "arn"},
    "aws_autoscaling_attachment": {"id"},
    "aws_iam_user": {"id", "arn", "unique_id"},
    "aws_iam_access_key": {"id", "secret", "ses_smtp_password_v4", "status", "create_date"},
    "aws_iam_user_policy": {"id"},
    "aws_instance": {"id", "arn", "public_ip", "private_ip", "public_dns", "private_dns"},
    # registry.terraform.io/providers/linode/linode
    "linode_firewall": {"id", "status", "devices"},
    "linode_nodebalancer": {"id", "ipv4", "ipv6", "hostname", "created", "updated", "transfer"},
    "linode_nodebalancer_config": {"id", "node_status", "ssl_commonname", "ssl_fingerprint"},
    "linode_instance": {"id", "ip_address", "private_ip_address", "ipv4", "ipv6", "status",
                        "specs", "backups", "host_uuid", "has_user_data"},
}
DATA_ATTRS = {
    "exoscale_template": {"id", "default_user"},
    "aws_vpc": {"id", "arn", "cidr_block"},
    "aws_subnets": {"id", "ids"},
    "aws_subnet": {"id", "arn", "cidr_block", "availability_zone", "availability_zone_id", "vpc_id"},
    "aws_ami": {"id", "arn", "name"},
}
# Values that only exist after apply, for rendering the user data here.
RESOURCE_SAMPLES = {
    ("exoscale_instance_pool", "id"): "5b2f8a4e-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
    ("random_password", "result"): "q7Vd2kP9sX4mB8nZ1cL6rT3wY5hJ0aF2gE9uK4oN",
    ("aws_iam_access_key", "id"): "AKIAIOSFODNN7EXAMPLE",
    ("aws_iam_access_key", "secret"): "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ("aws_autoscaling_group", "arn"): "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:"
                                      "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d:autoScalingGroupName/poolscale-web",
    ("linode_firewall", "id"): 1012345,
    ("linode_nodebalancer", "id"): 654321,
    ("linode_nodebalancer_config", "id"): 987654,
    ("tls_private_key", "private_key_pem"):
        "-----BEGIN EC PRIVATE KEY-----\nTESTKEYMHcCAQEEIPoolscaleSampleKey0123456789abcdef\n-----END EC PRIVATE KEY-----\n",
    ("tls_self_signed_cert", "cert_pem"):
        "-----BEGIN CERTIFICATE-----\nTESTCAMIIBpoolscaleSampleCA\n-----END CERTIFICATE-----\n",
    ("tls_locally_signed_cert", "cert_pem"):
        "-----BEGIN CERTIFICATE-----\nTESTCERTMIIBpoolscaleSampleCert\n-----END CERTIFICATE-----\n",
}
# Data sources read at plan time whose values the user data needs: the
# default VPC's subnets (aws-ha's fixed private addresses).
DATA_SAMPLES = {
    ("aws_subnet", "spread"): [{"id": f"subnet-0{i}", "cidr_block": f"172.31.{16 * i}.0/20"}
                               for i in range(3)],
}
VAR_SAMPLES = {
    "operator_cidr": "203.0.113.7/32",
    "poolscale_url": "https://sos-ch-gva-2.exo.io/my-bucket/poolscale?sig=a&expires=1",
    "poolscale_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "exoscale_api_key": "EXO0123456789abcdef01234567",
    "exoscale_api_secret": "poolscaleTestSecret-0123456789abcdefABCDEFGH",
    "linode_token": "linodeTestToken0123456789abcdef0123456789abcdef0123456789abcdef",
}
# Attributes whose values are secrets, and variable names that must be secret.
SENSITIVE_ATTRS = {("random_password", "result"), ("aws_iam_access_key", "secret"),
                   ("tls_private_key", "private_key_pem"), ("tls_private_key", "private_key_pem_pkcs8"),
                   ("tls_private_key", "private_key_openssh")}
SECRET_NAME = re.compile(r"secret|token|password|_key$")

# Every function Terraform has (1.x); a typo in a name fails.
TF_FUNCTIONS = set("""abs abspath alltrue anytrue base64decode base64encode base64gzip base64sha256
base64sha512 basename bcrypt can ceil chomp chunklist cidrhost cidrnetmask cidrsubnet cidrsubnets
coalesce coalescelist compact concat contains csvdecode dirname distinct element endswith file
filebase64 filebase64sha256 filebase64sha512 fileexists filemd5 fileset filesha1 filesha256
filesha512 flatten floor format formatdate formatlist indent index issensitive join jsondecode
jsonencode keys length list log lookup lower map matchkeys max md5 merge min nonsensitive one
parseint pathexpand plantimestamp pow range regex regexall replace reverse rsadecrypt sensitive
setintersection setproduct setsubtract setunion sha1 sha256 sha512 signum slice sort split
startswith strcontains strrev substr sum templatefile templatestring textdecodebase64
textencodebase64 timeadd timecmp timestamp title tobool tolist tomap tonumber toset tostring
transpose trim trimprefix trimspace trimsuffix try type upper urlencode uuid uuidv5 values
yamldecode yamlencode zipmap""".split())
TOP_BLOCKS = {"terraform", "provider", "variable", "locals", "resource", "data", "output",
              "module", "check", "moved", "import", "removed"}


class Module:
    """The top-level blocks of one Terraform directory."""

    def __init__(self, directory, texts=None):
        self.dir = pathlib.Path(directory)
        if texts is None:
            texts = {f.name: f.read_text() for f in sorted(self.dir.glob("*.tf"))}
        assert texts, f"no .tf files in {directory}"
        self.variables, self.locals, self.resources, self.data = {}, {}, {}, {}
        self.outputs, self.modules, self.providers, self.terraform = {}, {}, [], []
        for name, text in texts.items():
            body = hcl.parse(text, str(self.dir / name))
            assert not body.attributes, f"{name}: attributes outside any block: {list(body.attributes)}"
            for b in body.blocks:
                assert b.type in TOP_BLOCKS, f"{name}:{b.line}: unknown block {b.type}"
                where = f"{name}:{b.line}"
                if b.type == "variable":
                    self._add(self.variables, b.labels[0], b, where)
                elif b.type == "locals":
                    for a in b.body.attributes.values():
                        self._add(self.locals, a.name, a, f"{name}:{a.line}")
                elif b.type == "resource":
                    self._add(self.resources, tuple(b.labels), b, where)
                elif b.type == "data":
                    self._add(self.data, tuple(b.labels), b, where)
                elif b.type == "output":
                    self._add(self.outputs, b.labels[0], b, where)
                elif b.type == "module":
                    self._add(self.modules, b.labels[0], b, where)
                elif b.type == "provider":
                    self.providers.append(b)
                elif b.type == "terraform":
                    self.terraform.append(b)
                else:
                    pytest.fail(f"{where}: {b.type} blocks are not checked by this test")

    def child(self, name):
        """The Module a module block calls (a local source: ../exoscale)."""
        block = self.modules[name]
        source = hcl.evaluate(block.body.attributes["source"].expr, hcl.Context())
        assert source.startswith("../"), f"module {name}: only local sources are checked"
        return Module((self.dir / source).resolve())

    @staticmethod
    def _add(table, key, value, where):
        assert key not in table, f"{where}: {key} is declared twice"
        table[key] = value

    def blocks(self):
        """(top-level block or None for locals, expression) of every
        expression; a variable's type constraint is not an expression."""
        for table in (self.variables, self.resources, self.data, self.outputs, self.modules):
            for b in table.values():
                for e in hcl.body_expressions(b.body):
                    if b.type == "variable" and "type" in b.body.attributes and \
                            e is b.body.attributes["type"].expr:
                        continue
                    yield b, e
        for b in self.providers + self.terraform:
            for e in hcl.body_expressions(b.body):
                yield b, e
        for a in self.locals.values():
            yield None, a.expr

    def required_providers(self):
        out = {}
        for t in self.terraform:
            for rp in t.body.blocks_of("required_providers"):
                for name, a in rp.body.attributes.items():
                    out[name] = hcl.evaluate(a.expr, hcl.Context())
        return out


TYPE_WORDS = {"string", "number", "bool", "any"}
TYPE_CALLS = {"list", "map", "set", "object", "tuple", "optional"}


def type_errors(expr):
    """Errors of a variable's type constraint."""
    if isinstance(expr, hcl.Traversal) and not expr.steps and expr.root in TYPE_WORDS:
        return []
    if isinstance(expr, hcl.Call) and expr.name in TYPE_CALLS:
        out = []
        for a in expr.args:
            if isinstance(a, hcl.Object):
                for _, v in a.items:
                    out += type_errors(v)
            elif isinstance(a, hcl.Tuple):
                for v in a.items:
                    out += type_errors(v)
            elif not (expr.name == "optional" and a is not expr.args[0]):
                out += type_errors(a)
        return out
    return [f"line {expr.line}: not a type constraint: {expr!r}"]


def ignore_changes_exprs(block):
    for lc in block.body.blocks_of("lifecycle"):
        a = lc.body.attributes.get("ignore_changes")
        if a is not None:
            yield a.expr


def check_references(mod):
    """Errors: references to undeclared things, unknown attributes and
    functions, unused variables, locals and data sources; in the modules
    it calls too."""
    errors = [f"module {name}: {e}" for name in mod.modules for e in check_references(mod.child(name))]
    used = {"var": set(), "local": set(), "data": set()}
    skip = set()
    for b in list(mod.resources.values()) + list(mod.data.values()):
        for e in ignore_changes_exprs(b):
            skip.add(id(e))
            assert isinstance(e, hcl.Tuple), f"line {e.line}: ignore_changes must be a list"
            settable = set(b.body.attributes) | {x.type for x in b.body.blocks} | \
                RESOURCE_ATTRS.get(b.labels[0], set())
            for item in e.items:
                if not isinstance(item, hcl.Traversal) or item.steps or item.root not in settable:
                    errors.append(f"{b.labels}: ignore_changes names {item!r}, not an argument")
    for block, expr in mod.blocks():
        if id(expr) in skip:
            continue
        for node in hcl.walk(expr):
            if isinstance(node, hcl.Call) and node.name not in TF_FUNCTIONS:
                errors.append(f"line {node.line}: unknown function {node.name}()")
        meta = set(block.body.attributes) if block is not None else set()
        for ref in hcl.references(expr):
            root, attrs = ref.root, ref.attrs()
            here = f"line {ref.line}: {ref.dotted()}"
            if root in ("var", "local"):
                table = mod.variables if root == "var" else mod.locals
                if not attrs or attrs[0] not in table:
                    errors.append(f"{here}: no such {'variable' if root == 'var' else 'local value'}")
                else:
                    used[root].add(attrs[0])
            elif root == "data":
                if len(attrs) < 2 or tuple(attrs[:2]) not in mod.data:
                    errors.append(f"{here}: no such data source")
                    continue
                used["data"].add(tuple(attrs[:2]))
                d = mod.data[tuple(attrs[:2])]
                if len(attrs) > 2 and attrs[2] not in DATA_ATTRS.get(attrs[0], set()) \
                        and attrs[2] not in d.body.attributes:
                    errors.append(f"{here}: {attrs[0]} has no attribute {attrs[2]}")
            elif root == "module":
                if not attrs or attrs[0] not in mod.modules:
                    errors.append(f"{here}: no such module")
                elif len(attrs) < 2 or attrs[1] not in mod.child(attrs[0]).outputs:
                    errors.append(f"{here}: module {attrs[0]} has no such output")
            elif root == "path":
                if attrs[:1] not in (["module"], ["root"], ["cwd"]):
                    errors.append(f"{here}: path has module, root and cwd")
            elif root == "terraform":
                if attrs[:1] != ["workspace"]:
                    errors.append(f"{here}: unknown terraform attribute")
            elif root == "each":
                if "for_each" not in meta or attrs[:1] not in (["key"], ["value"]):
                    errors.append(f"{here}: each outside a for_each block")
            elif root == "count":
                if "count" not in meta or attrs[:1] != ["index"]:
                    errors.append(f"{here}: count outside a count block")
            elif root == "self":
                errors.append(f"{here}: self outside a provisioner")
            else:
                if not attrs or (root, attrs[0]) not in mod.resources:
                    errors.append(f"{here}: no such resource")
                    continue
                if root not in RESOURCE_ATTRS:
                    errors.append(f"{here}: {root} is not in RESOURCE_ATTRS (add its attributes)")
                    continue
                r = mod.resources[(root, attrs[0])]
                counted = "count" in r.body.attributes or "for_each" in r.body.attributes
                steps = ref.steps[1:]
                if counted and len(attrs) > 1:
                    errors.append(f"{here}: {root}.{attrs[0]} has count or for_each: index it")
                    continue
                if counted and steps and steps[0][0] in ("index", "splat"):
                    steps = steps[1:]  # one instance, or all of them
                    attr = steps[0][1] if steps and steps[0][0] == "attr" else None
                else:
                    attr = attrs[1] if len(attrs) > 1 else None
                if attr is not None and attr not in RESOURCE_ATTRS[root] \
                        and attr not in r.body.attributes:
                    errors.append(f"{here}: {root} has no attribute {attr}")
    for name, block in mod.modules.items():
        child = mod.child(name)
        given = set(block.body.attributes) - MODULE_META
        for arg in sorted(given - set(child.variables)):
            errors.append(f"module {name}: {child.dir.name} has no variable {arg}")
        for var, v in child.variables.items():
            if "default" not in v.body.attributes and var not in given:
                errors.append(f"module {name}: required variable {var} is not set")
    for kind, table in (("variable", mod.variables), ("local", mod.locals)):
        for name in table:
            if name not in used["var" if kind == "variable" else "local"]:
                errors.append(f"{kind} {name} is declared but never used")
    for key in mod.data:
        if key not in used["data"]:
            errors.append(f"data source {key} is declared but never used")
    providers = mod.required_providers()
    for (rtype, name) in list(mod.resources) + list(mod.data):
        if rtype.split("_")[0] not in providers:
            errors.append(f"{rtype}.{name}: provider {rtype.split('_')[0]} is not in required_providers")
    return errors


MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}


def sensitive_refs(mod, expr, seen=None):
    """The references in expr that carry a secret, through locals too."""
    seen = set() if seen is None else seen
    out = []
    for ref in hcl.references(expr):
        attrs = ref.attrs()
        if ref.root == "var" and attrs and attrs[0] in mod.variables:
            s = mod.variables[attrs[0]].body.attributes.get("sensitive")
            if s is not None and hcl.evaluate(s.expr, hcl.Context()) is True:
                out.append(ref.dotted())
        elif ref.root == "local" and attrs and attrs[0] in mod.locals and attrs[0] not in seen:
            seen.add(attrs[0])
            if sensitive_refs(mod, mod.locals[attrs[0]].expr, seen):
                out.append(ref.dotted())
        elif len(attrs) >= 2 and (ref.root, attrs[1]) in SENSITIVE_ATTRS:
            out.append(ref.dotted())
        elif ref.root == "module" and len(attrs) >= 2 and attrs[0] in mod.modules:
            o = mod.child(attrs[0]).outputs.get(attrs[1])
            s = o.body.attributes.get("sensitive") if o is not None else None
            if s is not None and hcl.evaluate(s.expr, hcl.Context()) is True:
                out.append(ref.dotted())
    return out


def check_variables_and_outputs(mod):
    errors = [f"module {name}: {e}" for name in mod.modules
              for e in check_variables_and_outputs(mod.child(name))]
    ctx = hcl.Context()
    for name, v in mod.variables.items():
        attrs = v.body.attributes
        desc = attrs.get("description")
        if desc is None or not (hcl.evaluate(desc.expr, ctx) or "").strip():
            errors.append(f"variable {name} has no description")
        if "type" not in attrs:
            errors.append(f"variable {name} has no type")
        else:
            errors += [f"variable {name}: {e}" for e in type_errors(attrs["type"].expr)]
        secret = SECRET_NAME.search(name) is not None
        sens = attrs.get("sensitive")
        marked = sens is not None and hcl.evaluate(sens.expr, ctx) is True
        if secret and not marked:
            errors.append(f"variable {name} holds a secret but is not sensitive = true")
        if marked and "default" in attrs:
            errors.append(f"variable {name} is sensitive and has a default")
    for name, o in mod.outputs.items():
        attrs = o.body.attributes
        desc = attrs.get("description")
        if desc is None or not (hcl.evaluate(desc.expr, ctx) or "").strip():
            errors.append(f"output {name} has no description")
        sens = attrs.get("sensitive")
        marked = sens is not None and hcl.evaluate(sens.expr, ctx) is True
        refs = sensitive_refs(mod, attrs["value"].expr)
        if refs and not marked:
            errors.append(f"output {name} shows {refs} but is not sensitive = true")
    return errors


class ModuleContext(hcl.Context):
    """Evaluates a module's expressions the way `terraform apply` would,
    with sample values for the variables without defaults and for the
    attributes known only after apply."""

    def __init__(self, mod, overrides=None, count_index=None, samples=True):
        self.mod = mod
        # a called module gets only what its module block passes
        self.vars = dict(VAR_SAMPLES if samples else {}, **(overrides or {}))
        self.cache = {}
        self.count_index = count_index  # count.index inside a counted resource
        self.children = {}

    def child(self, name):
        """The context of module NAME, its variables set by its module block."""
        if name not in self.children:
            block = self.mod.modules[name]
            given = {k: hcl.evaluate(a.expr, self) for k, a in block.body.attributes.items()
                     if k not in MODULE_META}
            self.children[name] = ModuleContext(self.mod.child(name), given, samples=False)
        return self.children[name]

    def lookup(self, t):
        root, steps = t.root, t.steps
        attrs = t.attrs()
        if root == "var":
            v = self.mod.variables[attrs[0]].body.attributes
            if attrs[0] in self.vars:
                value = self.vars[attrs[0]]
            elif "default" in v:
                value = hcl.evaluate(v["default"].expr, self)
            else:
                raise hcl.HCLError(f"no sample value for var.{attrs[0]}")
            return hcl.apply_steps(value, steps[1:], self)
        if root == "local":
            if attrs[0] not in self.cache:
                self.cache[attrs[0]] = None  # recursion guard
                self.cache[attrs[0]] = hcl.evaluate(self.mod.locals[attrs[0]].expr, self)
            assert self.cache[attrs[0]] is not None, f"local.{attrs[0]} refers to itself"
            return hcl.apply_steps(self.cache[attrs[0]], steps[1:], self)
        if root == "path":
            return hcl.apply_steps(str(self.mod.dir), steps[1:], self)
        if root == "module":
            child = self.child(attrs[0])
            value = hcl.evaluate(child.mod.outputs[attrs[1]].body.attributes["value"].expr, child)
            return hcl.apply_steps(value, steps[2:], self)
        if root == "count":
            if self.count_index is None:
                raise hcl.HCLError(f"line {t.line}: count.index outside a counted resource")
            return hcl.apply_steps({"index": self.count_index}, steps, self)
        if root == "data":
            if tuple(attrs[:2]) in DATA_SAMPLES:
                return hcl.apply_steps(DATA_SAMPLES[tuple(attrs[:2])], steps[2:], self)
            return f"data-{attrs[0]}-{attrs[1]}-{attrs[2]}"
        block = self.mod.resources[(root, attrs[0])]
        if attrs[1] in block.body.attributes:
            value = hcl.evaluate(block.body.attributes[attrs[1]].expr, self)
        elif (root, attrs[1]) in RESOURCE_SAMPLES:
            value = RESOURCE_SAMPLES[(root, attrs[1])]
        else:
            raise hcl.HCLError(f"line {t.line}: no sample for {root}.{attrs[0]}.{attrs[1]}")
        return hcl.apply_steps(value, steps[2:], self)

    def function(self, name, args):
        if name == "file":
            return pathlib.Path(args[0]).read_text()
        if name == "templatefile":
            path = pathlib.Path(args[0])
            return hcl.render(hcl.parse_template(path.read_text(), str(path)), args[1], self)
        return super().function(name, args)


@pytest.fixture(scope="module", params=CLOUDS)
def cloud(request):
    return request.param


@pytest.fixture(scope="module")
def module(cloud):
    return Module(TERRAFORM / cloud)


def rules_of(mod, rtype):
    return {name: b for (t, name), b in mod.resources.items() if t == rtype}


def arg(block, name, ctx=None):
    a = block.body.attributes.get(name)
    assert a is not None, f"{block.labels}: no {name}"
    return a.expr


def literal(block, name):
    """The value of an argument that must be a constant."""
    e = arg(block, name)
    refs = list(hcl.references(e))
    assert not refs, f"{block.labels}.{name} is not a constant: {refs}"
    return hcl.evaluate(e, hcl.Context())


def ref_to(expr):
    """'type.name' of a reference like type.name.id, or 'var.x', or
    'module.name.output'."""
    assert isinstance(expr, hcl.Traversal), f"line {expr.line}: expected a reference, got {expr!r}"
    a = expr.attrs()
    return f"module.{a[0]}.{a[1]}" if expr.root == "module" else f"{expr.root}.{a[0]}"


# --- Terraform: syntax and consistency --------------------------------------------

def test_terraform_fmt():
    tf = terraform()
    if tf is None:
        pytest.skip("terraform is not installed: `terraform fmt -check` not run (the HCL checks below still run)")
    rc, out = run(tf, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM), ok=False,
                  env=terraform_env())
    assert rc == 0, f"terraform fmt would change these files:\n{out}"


def test_terraform_references(module):
    errors = check_references(module)
    assert not errors, "\n".join(errors)


def test_terraform_variables_and_outputs(module, cloud):
    errors = check_variables_and_outputs(module)
    assert not errors, "\n".join(errors)
    for name in ("operator_cidr", "poolscale_url", "poolscale_sha256", "pool_min", "pool_max"):
        assert name in module.variables, f"{cloud}: variable {name} is missing"
    for name in ("lb_address", "management_address", "grafana_url"):
        assert name in module.outputs, f"{cloud}: output {name} is missing"
    # operator_cidr has no default: nobody gets a deployment open to the world by accident
    assert "default" not in module.variables["operator_cidr"].body.attributes


def test_terraform_templates_and_files(module):
    """Every templatefile() gets exactly the variables its template uses,
    and every file() and templatefile() path exists."""
    # with the modules it calls (the HA variants: the single one), whose
    # calls are counted too
    assert checked_file_calls(ModuleContext(module)) >= 10


def checked_file_calls(ctx):
    module, seen = ctx.mod, 0
    for name in module.modules:
        seen += checked_file_calls(ctx.child(name))
    for _, expr in module.blocks():
        for node in hcl.walk(expr):
            if not isinstance(node, hcl.Call) or node.name not in ("file", "templatefile"):
                continue
            seen += 1
            path = pathlib.Path(hcl.evaluate(node.args[0], ctx))
            assert path.is_file(), f"line {node.line}: {node.name}({path}): no such file"
            if node.name == "templatefile":
                assert isinstance(node.args[1], hcl.Object), f"line {node.line}: variables must be an object"
                given = {hcl.evaluate(k, ctx) for k, _ in node.args[1].items}
                wanted = hcl.template_variables(hcl.parse_template(path.read_text(), str(path)))
                assert given == wanted, (f"line {node.line}: {path.name}: template uses {sorted(wanted)}, "
                                         f"given {sorted(given)}")
    return seen


def test_terraform_strictness_catches_mistakes(tmp_path):
    """The checks above fail on a typo: the parser and checker are not lenient."""
    texts = {f.name: f.read_text() for f in sorted((TERRAFORM / "exoscale").glob("*.tf"))}
    assert not check_references(Module(TERRAFORM / "exoscale", texts))
    mutations = [
        ("main.tf", "exoscale_instance_pool.web.id", "exoscale_instance_pool.wbe.id", "no such resource"),
        ("main.tf", "exoscale_nlb.web.id", "exoscale_nlb.web.uid", "has no attribute"),
        ("main.tf", "var.pool_min", "var.pool_minimum", "no such variable"),
        ("main.tf", "base64gzip(", "base64gz(", "unknown function"),
        ("main.tf", "data.exoscale_template.debian.id", "data.exoscale_template.deb.id", "no such data source"),
        ("main.tf", "ignore_changes = [size]", "ignore_changes = [sizes]", "not an argument"),
    ]
    for name, old, new, expect in mutations:
        assert old in texts[name], old
        bad = dict(texts, **{name: texts[name].replace(old, new)})
        errors = check_references(Module(TERRAFORM / "exoscale", bad))
        assert any(expect in e for e in errors), f"{old} -> {new} not caught: {errors}"
    ha_texts = {f.name: f.read_text() for f in sorted((TERRAFORM / "exoscale-ha").glob("*.tf"))}
    assert not check_references(Module(TERRAFORM / "exoscale-ha", ha_texts))
    for name, old, new, expect in [
        ("outputs.tf", "exoscale_compute_instance.etcd[*].public_ip_address",
         "exoscale_compute_instance.etcd.public_ip_address", "index it"),
        ("outputs.tf", "exoscale_compute_instance.etcd[*].public_ip_address",
         "exoscale_compute_instance.etcd[*].public_ip", "has no attribute"),
        ("main.tf", "local.etcd_ips[count.index]", "local.etcd_ips[count.indx]", "count outside"),
        # module calls: outputs, inputs, required inputs
        ("outputs.tf", "module.pool.lb_address", "module.pool.lb_addr", "has no such output"),
        ("outputs.tf", "module.pool.lb_address", "module.pol.lb_address", "no such module"),
        ("main.tf", "  zone                = var.zone\n", "  zones               = var.zone\n",
         "has no variable zones"),
        ("main.tf", "  poolscale_url       = var.poolscale_url\n", "",
         "required variable poolscale_url is not set"),
    ]:
        assert old in ha_texts[name], old
        bad = dict(ha_texts, **{name: ha_texts[name].replace(old, new)})
        errors = check_references(Module(TERRAFORM / "exoscale-ha", bad))
        assert any(expect in e for e in errors), f"{old} -> {new} not caught: {errors}"
    # a called module's mistakes are the caller's too (a copy of the three
    # directories, one of them broken)
    for d in ("exoscale-ha", "exoscale", "modules/etcd"):
        (tmp_path / d).mkdir(parents=True)
        for f in (TERRAFORM / d).glob("*.tf"):
            (tmp_path / d / f.name).write_text(f.read_text())
    etcd = tmp_path / "modules/etcd/main.tf"
    etcd.write_text(etcd.read_text().replace("var.etcd_ips", "var.etcd_ip"))
    errors = check_references(Module(tmp_path / "exoscale-ha"))
    assert any(e.startswith("module etcd: ") and "var.etcd_ip: no such variable" in e for e in errors), errors
    # a sensitive module output shown by an output not marked sensitive
    bad = dict(ha_texts, **{"outputs.tf": ha_texts["outputs.tf"].replace(
        "value       = module.pool.api_token\n  sensitive   = true", "value       = module.pool.api_token")})
    assert bad["outputs.tf"] != ha_texts["outputs.tf"]
    errors = check_variables_and_outputs(Module(TERRAFORM / "exoscale-ha", bad))
    assert any("output api_token shows ['module.pool.api_token']" in e for e in errors), errors
    bad = dict(texts, **{"variables.tf": texts["variables.tf"].replace(
        'description = "Secret of that API key."\n  type        = string\n  sensitive   = true',
        'description = "Secret of that API key."\n  type        = string')})
    assert bad["variables.tf"] != texts["variables.tf"]
    errors = check_variables_and_outputs(Module(TERRAFORM / "exoscale", bad))
    assert any("exoscale_api_secret" in e and "sensitive" in e for e in errors), errors
    for snippet in ['a = "x\n', 'a = "\\q"\n', "a = 1\na = 2\n", "a = 1 b = 2\n", 'a = f(1,\n',
                    'b "x" {\n', "a = <<EOT\nx\n", 'a = "${x"\n', 'a = "%{ if x }y"\n',
                    'a = "%{ while x }"\n', "a = provider::p::f(1)\n", "a = 1 +\n"]:
        with pytest.raises(hcl.HCLError):
            hcl.parse(snippet, "snippet.tf")


def test_security_groups_exoscale():
    mod = Module(TERRAFORM / "exoscale")
    groups = rules_of(mod, "exoscale_security_group")
    assert set(groups) == {"pool", "management"}
    got = set()
    for name, r in rules_of(mod, "exoscale_security_group_rule").items():
        assert literal(r, "type") == "INGRESS", name
        assert literal(r, "protocol") == "TCP", name
        start, end = literal(r, "start_port"), literal(r, "end_port")
        assert start == end, f"{name}: one port per rule"
        group = ref_to(arg(r, "security_group_id"))
        a = r.body.attributes
        assert ("cidr" in a) != ("user_security_group_id" in a), f"{name}: cidr or a group, not both"
        if "cidr" in a:
            src = literal(r, "cidr") if not list(hcl.references(a["cidr"].expr)) else ref_to(a["cidr"].expr)
        else:
            src = ref_to(a["user_security_group_id"].expr)
        got.add((group, start, src))
    pool, mgmt = "exoscale_security_group.pool", "exoscale_security_group.management"
    assert got == {
        (pool, 8080, "0.0.0.0/0"),                  # the NLB keeps client addresses
        (pool, 9100, mgmt),                         # metrics for Prometheus only
        (pool, 22, "var.operator_cidr"),
        (mgmt, 9090, "var.operator_cidr"),
        (mgmt, 3000, "var.operator_cidr"),
        (mgmt, 9900, "var.operator_cidr"),
        (mgmt, 22, "var.operator_cidr"),
    }, got
    ip = mod.resources[("exoscale_instance_pool", "web")]
    assert [ref_to(i) for i in arg(ip, "security_group_ids").items] == [pool]
    mi = mod.resources[("exoscale_compute_instance", "management")]
    assert [ref_to(i) for i in arg(mi, "security_group_ids").items] == [mgmt]


def test_security_groups_aws():
    mod = Module(TERRAFORM / "aws")
    groups = rules_of(mod, "aws_security_group")
    assert set(groups) == {"alb", "pool", "management"}
    for name, g in groups.items():
        assert not g.body.blocks, f"aws_security_group.{name}: rules belong in aws_vpc_security_group_*_rule"
    got = set()
    for name, r in rules_of(mod, "aws_vpc_security_group_ingress_rule").items():
        assert literal(r, "ip_protocol") == "tcp", name
        start, end = literal(r, "from_port"), literal(r, "to_port")
        assert start == end, f"{name}: one port per rule"
        a = r.body.attributes
        assert ("cidr_ipv4" in a) != ("referenced_security_group_id" in a), name
        if "cidr_ipv4" in a:
            e = a["cidr_ipv4"].expr
            src = ref_to(e) if list(hcl.references(e)) else literal(r, "cidr_ipv4")
        else:
            src = ref_to(a["referenced_security_group_id"].expr)
        got.add((ref_to(arg(r, "security_group_id")), start, src))
    alb, pool, mgmt = ("aws_security_group.alb", "aws_security_group.pool",
                       "aws_security_group.management")
    assert got == {
        (alb, 8080, "0.0.0.0/0"),
        (pool, 8080, alb),
        (pool, 8080, mgmt),          # the controller's health checks
        (pool, 9100, mgmt),
        (pool, 22, "var.operator_cidr"),
        (mgmt, 9090, "var.operator_cidr"),
        (mgmt, 3000, "var.operator_cidr"),
        (mgmt, 9900, "var.operator_cidr"),
        (mgmt, 22, "var.operator_cidr"),
    }, got
    lt = mod.resources[("aws_launch_template", "web")]
    assert [ref_to(i) for i in arg(lt, "vpc_security_group_ids").items] == [pool]
    lb = mod.resources[("aws_lb", "web")]
    assert [ref_to(i) for i in arg(lb, "security_groups").items] == [alb]
    mi = mod.resources[("aws_instance", "management")]
    assert [ref_to(i) for i in arg(mi, "vpc_security_group_ids").items] == [mgmt]


def test_load_balancers_check_health():
    mod = Module(TERRAFORM / "exoscale")
    svc = mod.resources[("exoscale_nlb_service", "web")]
    assert literal(svc, "port") == 8080 and literal(svc, "target_port") == 8080
    assert ref_to(arg(svc, "instance_pool_id")) == "exoscale_instance_pool.web"
    assert ref_to(arg(svc, "nlb_id")) == "exoscale_nlb.web"
    [hc] = svc.body.blocks_of("healthcheck")
    assert literal(hc, "mode") == "http"
    assert literal(hc, "uri") == "/health"
    assert literal(hc, "port") == 8080
    pool = mod.resources[("exoscale_instance_pool", "web")]
    assert [t.root for e in ignore_changes_exprs(pool) for t in e.items] == ["size"], \
        "terraform apply must not reset the size the controller set"

    mod = Module(TERRAFORM / "aws")
    tg = mod.resources[("aws_lb_target_group", "web")]
    assert literal(tg, "port") == 8080 and literal(tg, "protocol") == "HTTP"
    [hc] = tg.body.blocks_of("health_check")
    assert literal(hc, "path") == "/health"
    assert literal(hc, "matcher") == "200"
    listener = mod.resources[("aws_lb_listener", "web")]
    assert literal(listener, "port") == 8080
    assert ref_to(arg(listener, "load_balancer_arn")) == "aws_lb.web"
    [action] = listener.body.blocks_of("default_action")
    assert literal(action, "type") == "forward"
    assert ref_to(arg(action, "target_group_arn")) == "aws_lb_target_group.web"
    att = mod.resources[("aws_autoscaling_attachment", "web")]
    assert ref_to(arg(att, "autoscaling_group_name")) == "aws_autoscaling_group.web"
    assert ref_to(arg(att, "lb_target_group_arn")) == "aws_lb_target_group.web"
    asg = mod.resources[("aws_autoscaling_group", "web")]
    ignored = {t.root for e in ignore_changes_exprs(asg) for t in e.items}
    assert {"desired_capacity", "target_group_arns"} <= ignored
    assert "target_group_arns" not in asg.body.attributes  # the attachment owns it
    [lt] = asg.body.blocks_of("launch_template")
    assert ref_to(arg(lt, "id")) == "aws_launch_template.web"


def test_linode_firewalls_and_nodebalancer():
    """Linode: the members' firewall lets the app and node exporter in from
    the private network only (the NodeBalancer, Prometheus and the
    controller's checks all come from 192.168.128.0/17) and SSH from the
    operator; the NodeBalancer checks /health; Terraform makes no member
    and no node (the controller's), and the controller attaches the
    firewall to what it creates."""
    mod = Module(TERRAFORM / "linode")
    ctx = ModuleContext(mod)
    pool = mod.resources[("linode_firewall", "pool")]
    assert literal(pool, "inbound_policy") == "DROP"
    rules = {}
    for r in pool.body.blocks_of("inbound"):
        assert literal(r, "action") == "ACCEPT"
        rules[literal(r, "ports")] = hcl.evaluate(arg(r, "ipv4"), ctx)
    assert rules == {"8080": ["192.168.128.0/17"], "9100": ["192.168.128.0/17"],
                     "22": [VAR_SAMPLES["operator_cidr"]]}, rules
    mgmt = mod.resources[("linode_firewall", "management")]
    [r] = mgmt.body.blocks_of("inbound")
    assert hcl.evaluate(arg(r, "ipv4"), ctx) == [VAR_SAMPLES["operator_cidr"]]
    assert "linodes" not in pool.body.attributes, "the controller attaches it to members"
    cfg = mod.resources[("linode_nodebalancer_config", "web")]
    assert literal(cfg, "port") == 8080 and literal(cfg, "check") == "http"
    assert literal(cfg, "check_path") == "/health"
    assert ref_to(arg(cfg, "nodebalancer_id")) == "linode_nodebalancer.web"
    assert not rules_of(mod, "linode_nodebalancer_node")
    assert list(rules_of(mod, "linode_instance")) == ["management"]
    inst = mod.resources[("linode_instance", "management")]
    assert literal(inst, "private_ip") is True
    ccfg = hcl.evaluate(mod.locals["controller_config"].expr, ctx)
    assert f"firewall_id: {RESOURCE_SAMPLES[('linode_firewall', 'id')]}" in ccfg


def test_aws_iam_policy_has_exactly_the_four_actions():
    mod = Module(TERRAFORM / "aws")
    [(name, pol)] = rules_of(mod, "aws_iam_user_policy").items()
    assert ref_to(arg(pol, "user")) == "aws_iam_user.controller"
    doc = json.loads(hcl.evaluate(arg(pol, "policy"), ModuleContext(mod)))
    actions = []
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        actions += acts
        for a in acts:
            assert "*" not in a
        if any(a in ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")
               for a in acts):
            assert st["Resource"] == RESOURCE_SAMPLES[("aws_autoscaling_group", "arn")], \
                "resizing is allowed on this group only"
    assert sorted(actions) == sorted([
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup", "ec2:DescribeInstances"]), actions
    # The controller cannot use an instance profile (it does not read IMDS):
    # no unused role or profile lying around.
    assert not rules_of(mod, "aws_iam_instance_profile")
    assert not rules_of(mod, "aws_iam_role")


# --- cloud-init: rendered as Terraform renders it, then checked by its readers -----

def user_data_local(ctx, name):
    """local.NAME of the module, or of the module it calls that has it (the
    HA variants get the pool's user data from the single variant)."""
    if name not in ctx.mod.locals:
        [ctx] = [ctx.child(m) for m in ctx.mod.modules if name in ctx.mod.child(m).locals]
    return ctx.lookup(hcl.Traversal("local", [("attr", name)], 0))


def rendered(cloud):
    """The user data of each kind of VM: app, management and, in the HA
    variant, etcd-1..3 (one per member)."""
    mod = Module(TERRAFORM / cloud)
    ctx = ModuleContext(mod)
    out = {"app": user_data_local(ctx, "app_user_data"),
           "management": user_data_local(ctx, "management_user_data")}
    if "etcd" in mod.modules:  # the HA variants: ../modules/etcd
        members = ctx.lookup(hcl.Traversal("module", [("attr", "etcd"), ("attr", "user_data")], 0))
        for i, text in enumerate(members):
            out[f"etcd-{i + 1}"] = text
    return out


@pytest.fixture(scope="module")
def user_data(cloud):
    return rendered(cloud)


def test_cloud_init_schema(user_data, tmp_path):
    exe = shutil.which("cloud-init")
    if exe is None:
        pytest.fail("cloud-init is not installed: scripts/deps installs it (Debian package cloud-init)")
    for name, text in user_data.items():
        assert text.startswith("#cloud-config\n"), name
        f = tmp_path / f"{name}.yaml"
        f.write_text(text)
        rc, out = run(exe, "schema", "--config-file", str(f), ok=False)
        assert rc == 0 and "Valid cloud-config" in out, f"{name}:\n{out}\n---\n{text}"


def write_files(text):
    yaml = need_yaml()
    doc = yaml.safe_load(text)
    files = {}
    for f in doc["write_files"]:
        assert f["path"] not in files, f"{f['path']} written twice"
        files[f["path"]] = f
    return doc, files


def test_app_user_data(user_data):
    doc, files = write_files(user_data["app"])
    assert "prometheus-node-exporter" in doc["packages"]
    # the unit comes with the package (/lib/systemd/system): a copy in /etc
    # would shadow it
    assert not [p for p in files if p.startswith("/etc/systemd/system/poolscale-app")]
    inst = files["/usr/local/sbin/poolscale-install"]
    assert inst["content"].rstrip() == (DEPLOY / "cloud-init/poolscale-install.sh").read_text().rstrip()
    assert inst["permissions"] == "0755"
    # the package, checked before apt-get sees it (tests/system/test_package.py runs it)
    assert "sha256sum -c" in inst["content"] and "apt-get install" in inst["content"]
    assert doc["runcmd"][0] == ["/usr/local/sbin/poolscale-install", VAR_SAMPLES["poolscale_url"],
                                VAR_SAMPLES["poolscale_sha256"]]
    assert ["systemctl", "enable", "--now", "poolscale-app.service"] in doc["runcmd"]


def test_management_user_data(user_data, cloud, tmp_path):
    doc, files = write_files(user_data["management"])
    assert {"prometheus", "prometheus-alertmanager"} <= set(doc["packages"])
    # the package creates the poolscale user (sysusers.d) and brings the
    # units; cloud-init leaves the login user alone and adds the drop-ins
    assert "users" not in doc or doc["users"] == ["default"], doc.get("users")
    assert not [p for p in files if p.startswith("/etc/systemd/system/") and p.endswith(".service")]
    for path, src in (("/etc/systemd/system/poolscale-controller.service.d/credentials.conf",
                       f"poolscale-controller.service.d/{kind(cloud)}.conf"),
                      ("/etc/systemd/system/poolscale-sd.service.d/credentials.conf",
                       f"poolscale-sd.service.d/{kind(cloud)}.conf")):
        assert files[path]["content"].rstrip() == (SYSTEMD / src).read_text().rstrip(), path
    grafana = {"/etc/grafana/provisioning/datasources/poolscale.yaml": "provisioning/datasources/prometheus.yaml",
               "/etc/grafana/provisioning/dashboards/poolscale.yaml": "provisioning/dashboards/poolscale.yaml",
               "/var/lib/grafana/dashboards/poolscale/poolscale.json": "dashboards/poolscale.json"}
    for path, src in grafana.items():
        assert files[path]["content"].rstrip() == (GRAFANA / src).read_text().rstrip(), path
    json.loads(files["/var/lib/grafana/dashboards/poolscale/poolscale.json"]["content"])
    assert files["/etc/prometheus/rules/poolscale.yml"]["content"].rstrip() == \
        (DEPLOY / "prometheus/rules/poolscale.yml").read_text().rstrip()

    # secrets: root-only, with the sample values in them
    secrets = {"/etc/poolscale/api-token", "/etc/grafana/poolscale.env"}
    tls_key = RESOURCE_SAMPLES[("tls_private_key", "private_key_pem")]
    if ha(cloud):
        # etcd's client key is a secret; the CA and the certificate are not
        secrets |= {"/etc/poolscale/etcd-client-key.pem"}
        assert files["/etc/poolscale/etcd-client-key.pem"]["content"] == tls_key
        assert files["/etc/poolscale/etcd-ca.pem"]["content"] == \
            RESOURCE_SAMPLES[("tls_self_signed_cert", "cert_pem")]
        assert files["/etc/poolscale/etcd-client.pem"]["content"] == \
            RESOURCE_SAMPLES[("tls_locally_signed_cert", "cert_pem")]
        dropin = "/etc/systemd/system/poolscale-controller.service.d/etcd.conf"
        assert files[dropin]["content"] == (SYSTEMD / "poolscale-controller.service.d/etcd.conf").read_text()
    if kind(cloud) == "exoscale":
        secrets |= {"/etc/poolscale/exoscale.key", "/etc/poolscale/exoscale.secret"}
        assert files["/etc/poolscale/exoscale.key"]["content"] == VAR_SAMPLES["exoscale_api_key"]
        assert files["/etc/poolscale/exoscale.secret"]["content"] == VAR_SAMPLES["exoscale_api_secret"]
    elif cloud == "linode":
        # The members' cloud-init is the controller's to send: a credential
        # of its unit, so root-only like the token.
        secrets |= {"/etc/poolscale/linode.token", "/etc/poolscale/member.cloud-init"}
        assert files["/etc/poolscale/linode.token"]["content"] == VAR_SAMPLES["linode_token"]
        assert files["/etc/poolscale/member.cloud-init"]["content"] == user_data["app"]
    else:
        secrets |= {"/etc/poolscale/aws-credentials"}
        creds = files["/etc/poolscale/aws-credentials"]["content"]
        assert creds.startswith("[default]\n")
        assert f"aws_access_key_id = {RESOURCE_SAMPLES[('aws_iam_access_key', 'id')]}\n" in creds
        assert f"aws_secret_access_key = {RESOURCE_SAMPLES[('aws_iam_access_key', 'secret')]}\n" in creds
    token = RESOURCE_SAMPLES[("random_password", "result")]
    assert files["/etc/poolscale/api-token"]["content"] == token
    for path, f in files.items():
        if path in secrets:
            assert f["permissions"] == "0600" and f["owner"] == "root:root", path
        else:
            assert f["permissions"] in ("0644", "0755"), path
            for secret in (token, VAR_SAMPLES["exoscale_api_secret"], VAR_SAMPLES["linode_token"],
                           RESOURCE_SAMPLES[("aws_iam_access_key", "secret")], tls_key):
                assert secret not in f["content"], f"a secret in {path}, which is not 0600"
    assert set(p for p, f in files.items() if f["permissions"] == "0600") == secrets

    # the controller's config names the credentials the units load
    yaml = need_yaml()
    cfg = yaml.safe_load(files["/etc/poolscale/controller.yml"]["content"])
    assert cfg["provider"]["kind"] == kind(cloud)
    assert cfg["provider"]["app_port"] == 8080 and cfg["provider"]["metrics_port"] == 9100
    assert cfg["discovery"]["dir"] == "/var/lib/poolscale"
    cred_dir = "/run/credentials/poolscale-controller.service/"
    loaded = {}
    units = ["poolscale-controller.service", f"poolscale-controller.service.d/{kind(cloud)}.conf"]
    if ha(cloud):
        units.append("poolscale-controller.service.d/etcd.conf")
    for unit in units:
        for line in (SYSTEMD / unit).read_text().splitlines():
            if line.startswith("LoadCredential="):
                cid, src = line.split("=", 1)[1].split(":", 1)
                loaded[cred_dir + cid] = src
    named = [cfg["api"]["bearer_token_file"]]
    if kind(cloud) == "exoscale":
        ex = cfg["provider"]["exoscale"]
        named += [ex["key_file"], ex["secret_file"]]
        assert ex["pool_id"] == RESOURCE_SAMPLES[("exoscale_instance_pool", "id")]
    elif cloud == "linode":
        li = cfg["provider"]["linode"]
        named += [li["token_file"], li["user_data_file"]]
        assert li["tag"] == "poolscale-web" and li["region"] == "eu-central"
        assert li["firewall_id"] == RESOURCE_SAMPLES[("linode_firewall", "id")]
        assert li["nodebalancer_id"] == RESOURCE_SAMPLES[("linode_nodebalancer", "id")]
        assert li["nodebalancer_config_id"] == RESOURCE_SAMPLES[("linode_nodebalancer_config", "id")]
    else:
        aw = cfg["provider"]["aws"]
        named += [aw["credentials_file"]]
        assert aw["group"] == "poolscale-web" and aw["address"] == "private"
    public = []  # credentials that are not secrets (etcd's CA and client certificate)
    if ha(cloud):
        assert "ha" in cfg and "ha" not in yaml.safe_load(files["/etc/poolscale/sd.yml"]["content"])
        public = [cfg["ha"]["ca_file"], cfg["ha"]["cert_file"]]
    for path in named + public + ([cfg["ha"]["key_file"]] if ha(cloud) else []):
        assert path in loaded, f"{path}: no LoadCredential= provides it"
        wanted = files if path in public else secrets
        assert loaded[path] in wanted, f"{path} comes from {loaded[path]}, which cloud-init does not write"
    sd = yaml.safe_load(files["/etc/poolscale/sd.yml"]["content"])
    assert json.dumps(sd).count("poolscale-sd.service") == len(named)
    assert "poolscale-controller.service" not in json.dumps(sd)

    # scripts parse and pass shellcheck (scripts/deps installs it)
    scripts = ["/usr/local/sbin/poolscale-install", "/usr/local/sbin/poolscale-management-setup"]
    if ha(cloud) and kind(cloud) == "exoscale":  # the private network is a second NIC
        scripts.append("/usr/local/sbin/poolscale-private-network")
        assert files[scripts[-1]]["permissions"] == "0755"
    elif ha(cloud):  # AWS: one interface, with the private address
        assert "/usr/local/sbin/poolscale-private-network" not in files
    for path in scripts:
        script = tmp_path / pathlib.Path(path).name
        script.write_text(files[path]["content"])
        run("sh", "-n", str(script))
        assert shutil.which("shellcheck"), "shellcheck is missing: scripts/deps installs it"
        run("shellcheck", "--shell=sh", str(script))
    assert doc["runcmd"][-1] == ["/usr/local/sbin/poolscale-management-setup"]


def test_management_prometheus_and_alertmanager(user_data, cloud, tmp_path):
    """The Prometheus and Alertmanager configs written on the management
    host pass promtool and amtool, and route the scaling alerts to the
    controller with its token."""
    _, files = write_files(user_data["management"])
    etc = tmp_path / "etc-prometheus"
    (etc / "rules").mkdir(parents=True)
    for path in ("/etc/prometheus/prometheus.yml", "/etc/prometheus/alertmanager.yml",
                 "/etc/prometheus/rules/poolscale.yml"):
        assert files[path].get("defer") is True, f"{path} belongs to a package: write it after install"
        (etc / path[len("/etc/prometheus/"):]).write_text(
            files[path]["content"].replace("/etc/prometheus/", f"{etc}/"))
    (etc / "poolscale-api-token").write_text("token\n")
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    _, out = run(promtool, "check", "config", str(etc / "prometheus.yml"))
    assert "SUCCESS" in out and "3 rules found" in out, out
    amtool = shutil.which("amtool") or "/usr/bin/amtool"
    _, out = run(amtool, "check-config", str(etc / "alertmanager.yml"))
    assert "SUCCESS" in out, out
    for action in ("up", "down"):
        _, out = run(amtool, "config", "routes", "test", f"--config.file={etc / 'alertmanager.yml'}",
                     "alertname=PoolCPUHigh", "pool=web", f"poolscale_action={action}")
        assert "poolscale" in out
    yaml = need_yaml()
    prom = yaml.safe_load(files["/etc/prometheus/prometheus.yml"]["content"])
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert jobs["pool"]["file_sd_configs"][0]["files"] == ["/var/lib/poolscale/targets-metrics.json"]
    assert jobs["poolscale-controller"]["authorization"]["credentials_file"] == \
        "/etc/prometheus/poolscale-api-token"
    am = yaml.safe_load(files["/etc/prometheus/alertmanager.yml"]["content"])
    hooks = am["receivers"][0]["webhook_configs"]
    # HA: every controller (a follower answers 503, Alertmanager retries it)
    mod = Module(TERRAFORM / cloud)
    want = [f"http://{ip}:9900/api/v1/alerts" for ip in ModuleContext(mod).lookup(
        hcl.Traversal("local", [("attr", "management_ips")], 0))] \
        if ha(cloud) else ["http://127.0.0.1:9900/api/v1/alerts"]
    assert len(want) == (2 if ha(cloud) else 1)
    assert [h["url"] for h in hooks] == want
    for hook in hooks:
        assert hook["http_config"]["authorization"]["credentials_file"] == \
            "/etc/prometheus/poolscale-api-token"
        assert hook["send_resolved"] is True and hook["max_alerts"] == 0


def test_controller_config_is_valid(user_data, cloud, tmp_path):
    """The controller accepts the config Terraform writes (credential paths
    pointed at temporary files), the HA variants' ha: block included."""
    _, files = write_files(user_data["management"])
    creds = tmp_path / "credentials"
    creds.mkdir()
    for name in ("api-token", "exoscale-key", "exoscale-secret", "linode-token"):
        (creds / name).write_text("x\n")
    if ha(cloud):  # real PEM files, in case the check reads them
        from pki import PKI
        ca = PKI(tmp_path / "pki")
        cert, key = ca.issue("poolscale")
        (creds / "etcd-ca").write_bytes(ca.ca.read_bytes())
        (creds / "etcd-client-cert").write_bytes(cert.read_bytes())
        (creds / "etcd-client-key").write_bytes(key.read_bytes())
    (creds / "member-cloud-init").write_text("#cloud-config\n")
    (creds / "aws-credentials").write_text("[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
    # sd reads a controller config too (poolscale sd --config)
    for name, unit in (("controller.yml", "poolscale-controller"), ("sd.yml", "poolscale-sd")):
        text = files[f"/etc/poolscale/{name}"]["content"]
        assert f"/run/credentials/{unit}.service/" in text
        text = text.replace(f"/run/credentials/{unit}.service/", f"{creds}/")
        text = text.replace("/var/lib/poolscale", str(tmp_path / "state"))
        cfg = tmp_path / name
        cfg.write_text(text)
        rc, out = run(BIN, "controller", "--config", str(cfg), "--check-config", ok=False)
        assert rc == 0 and "valid" in out, f"{name}: {out}"


def test_user_data_fits(user_data, cloud):
    """Cloud limits: Exoscale takes 32 KiB of base64 user data, AWS 16 KiB
    before base64, Linode 64 KiB before base64 (so the management host's is
    gzipped on all three)."""
    mgmt = gzip.compress(user_data["management"].encode(), mtime=0)
    app = user_data["app"].encode()
    if cloud == "linode":
        assert len(mgmt) < 65535 and len(app) < 65535, (len(mgmt), len(app))
    elif kind(cloud) == "exoscale":
        assert len(base64.b64encode(mgmt)) < 32768, len(base64.b64encode(mgmt))
        assert len(base64.b64encode(app)) < 32768
    else:
        assert len(mgmt) < 16384, len(mgmt)
        assert len(app) < 16384
    # and the gzipped form is what Terraform sends
    mod = Module(TERRAFORM / cloud)
    if cloud == "linode":
        [md] = mod.resources[("linode_instance", "management")].body.blocks_of("metadata")
        e = md.body.attributes["user_data"].expr
    else:
        inst = mod.resources[("exoscale_compute_instance", "management")] if kind(cloud) == "exoscale" \
            else mod.resources[("aws_instance", "management")]
        e = inst.body.attributes["user_data" if kind(cloud) == "exoscale" else "user_data_base64"].expr
    assert isinstance(e, hcl.Call) and e.name == "base64gzip"
    # HA: both management instances get the same user data (count.index 0, 1)
    for i in range(2 if ha(cloud) else 1):
        got = hcl.evaluate(e, ModuleContext(mod, count_index=i))
        assert gzip.decompress(base64.b64decode(got)).decode() == user_data["management"]
    if ha(cloud):  # each etcd member gets its own, gzipped, within the limit
        rtype, attr, limit = ("exoscale_compute_instance", "user_data", 32768) \
            if kind(cloud) == "exoscale" else ("aws_instance", "user_data_base64", 16384 * 4 // 3)
        e = mod.resources[(rtype, "etcd")].body.attributes[attr].expr
        assert isinstance(e, hcl.Call) and e.name == "base64gzip"
        for i in range(3):
            got = hcl.evaluate(e, ModuleContext(mod, count_index=i))
            assert len(got) < limit
            assert gzip.decompress(base64.b64decode(got)).decode() == user_data[f"etcd-{i + 1}"]


def terraform_templatefile(tf, path, variables, tmp_path):
    """What the real terraform renders (terraform console, no provider needed)."""
    vf = tmp_path / "vars.json"
    vf.write_text(json.dumps(variables))
    expr = f'base64encode(templatefile("{path}", jsondecode(file("{vf}"))))\n'
    work = tmp_path / "tfconsole"
    work.mkdir(exist_ok=True)
    r = subprocess.run([tf, "console"], input=expr.encode(), capture_output=True, cwd=work,
                       timeout=120, env=terraform_env())
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode().strip()
    assert out.startswith('"') and out.endswith('"'), out
    return base64.b64decode(out[1:-1]).decode()


def test_templates_render_as_terraform_does(tmp_path, cloud):
    """hcl.render agrees with terraform on the real user data templates."""
    tf = terraform()
    if tf is None:
        pytest.skip("terraform is not installed: rendering not compared with the real one")
    mod = Module(TERRAFORM / cloud)
    ctx = ModuleContext(mod)
    for local in ("app_user_data", "management_user_data"):
        lctx = ctx  # the HA variants: the single variant's, called as a module
        if local not in mod.locals:
            [lctx] = [ctx.child(m) for m in mod.modules if local in mod.child(m).locals]
        call = lctx.mod.locals[local].expr
        assert isinstance(call, hcl.Call) and call.name == "templatefile"
        path = hcl.evaluate(call.args[0], lctx)
        variables = hcl.evaluate(call.args[1], lctx)
        ours = hcl.render(hcl.parse_template(pathlib.Path(path).read_text(), path), variables, lctx)
        assert ours == terraform_templatefile(tf, path, variables, tmp_path), local
    if "etcd" in mod.modules:  # [for i, ip in ... : templatefile(...)]: member 1
        ctx = ctx.child("etcd")
        f = ctx.mod.locals["user_data"].expr
        assert isinstance(f, hcl.ForExpr) and isinstance(f.value_expr, hcl.Call)
        call = f.value_expr
        scope = {f.key_var: 0, f.value_var: "10.0.0.11"}
        path = hcl.evaluate(call.args[0], ctx, scope)
        variables = hcl.evaluate(call.args[1], ctx, scope)
        ours = hcl.render(hcl.parse_template(pathlib.Path(path).read_text(), path), variables, ctx)
        assert ours == terraform_templatefile(tf, path, variables, tmp_path), "etcd_user_data[0]"


def test_template_features_render_as_terraform_does(tmp_path):
    """The template features whose exact rules are easy to get wrong
    (whitespace stripping, escapes, for and if), against terraform."""
    tf = terraform()
    if tf is None:
        pytest.skip("terraform is not installed: rendering not compared with the real one")
    samples = ["a  ${v ~}   \n  b", "a  ${v ~}   \n\n  b", "a \n \n  ${~ v} b", "a\n${~ v}",
               "x ${v~}y", "a\n  %{~ if true ~}  \n  in\n  %{~ endif ~}\n  end",
               "$${v} %%{x} $$ %% ${v}", "l:\n%{ for k, x in m ~}\n  - ${k}=${x}\n%{ endfor ~}\n\nafter\n",
               "%{ if v == \"V\" }yes%{ else }no%{ endif }", "${indent(2, \"p\\nq\\n\")}|",
               "${jsonencode({b = \"<&>\", a = [1, true]})}", "${replace(\"a.b.c\", \"/[.]/\", \"-\")}"]
    for i, text in enumerate(samples):
        path = tmp_path / f"sample{i}.tpl"
        path.write_text(text)
        variables = {"v": "V", "m": {"b": "2", "a": "1"}}
        ours = hcl.render(hcl.parse_template(text, str(path)), variables)
        assert ours == terraform_templatefile(tf, str(path), variables, tmp_path), repr(text)


# --- systemd units ----------------------------------------------------------------

def unit_settings(path):
    """{key: [values]} of a unit file (keys may repeat)."""
    out = {}
    section = None
    for line in pathlib.Path(path).read_text().splitlines():
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            section = s
            continue
        assert section is not None and "=" in s, f"{path}: {line!r}"
        k, v = s.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


@pytest.mark.parametrize("unit", UNITS)
def test_unit_is_hardened(unit):
    s = unit_settings(SYSTEMD / f"{unit}.service")
    one = {k: v[-1] for k, v in s.items()}
    assert one.get("DynamicUser") == "yes" or "User" in one
    expected = {"ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes",
                "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
                "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
                "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet": "",
                "Restart": "on-failure"}
    for k, v in expected.items():
        assert one.get(k) == v, f"{unit}: {k}={one.get(k)!r}, want {v!r}"
    assert "@system-service" in s["SystemCallFilter"]
    assert one["ExecStart"].startswith("/usr/local/bin/poolscale ")
    if unit != "poolscale-app":  # they share the controller's state directory and user
        assert one["User"] == "poolscale" and "DynamicUser" not in one
        assert one["StateDirectory"].split()[0] == "poolscale"
    if unit == "poolscale-controller":
        assert s["LoadCredential"] == ["api-token:/etc/poolscale/api-token"]
    dropins = sorted({kind(c) for c in CLOUDS}) + (["etcd"] if unit == "poolscale-controller" else [])
    for name in dropins:
        if unit in ("poolscale-controller", "poolscale-sd"):
            d = unit_settings(SYSTEMD / f"{unit}.service.d/{name}.conf")
            assert d["LoadCredential"] and set(d) == {"LoadCredential"}


def test_units_verify(tmp_path):
    exe = shutil.which("systemd-analyze") or ("/usr/bin/systemd-analyze"
                                              if os.path.exists("/usr/bin/systemd-analyze") else None)
    assert exe, "systemd-analyze is missing: scripts/deps installs systemd"
    # verify wants ExecStart to exist: point it at the binary under test;
    # SYSTEMD_UNIT_PATH makes it find the drop-ins (no systemd running needed)
    for f in SYSTEMD.rglob("*"):
        if f.is_file():
            dst = tmp_path / f.relative_to(SYSTEMD)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(f.read_text().replace("/usr/local/bin/poolscale ", f"{BIN} "))
    env = dict(os.environ, SYSTEMD_UNIT_PATH=f"{tmp_path}:", SYSTEMD_LOG_LEVEL="notice")
    for unit in UNITS:
        for dropin in [None] + sorted((tmp_path / f"{unit}.service.d").glob("*.conf")):
            if dropin is not None:  # one cloud's drop-in at a time, as installed
                for other in (tmp_path / f"{unit}.service.d").glob("*.conf"):
                    other.rename(other.with_suffix(".off"))
                dropin.with_suffix(".off").rename(dropin)
            rc, out = run(exe, "verify", str(tmp_path / f"{unit}.service"), ok=False, env=env)
            ours = [ln for ln in out.splitlines() if str(tmp_path) in ln or "poolscale" in ln]
            assert rc == 0 and not ours, f"{unit} {dropin}: exit {rc}\n{out}"
        for off in (tmp_path / f"{unit}.service.d").glob("*.off"):
            off.rename(off.with_suffix(".conf"))
    # The HA variant's drop-in for Debian's etcd.service (package etcd-server)
    debian = pathlib.Path("/lib/systemd/system/etcd.service")
    assert debian.exists(), "etcd-server is missing: scripts/deps installs it"
    (tmp_path / "etcd.service").write_text(debian.read_text())
    assert (tmp_path / "etcd.service.d/poolscale.conf").exists()
    rc, out = run(exe, "verify", str(tmp_path / "etcd.service"), ok=False, env=env)
    ours = [ln for ln in out.splitlines() if str(tmp_path) in ln or "poolscale" in ln]
    assert rc == 0 and not ours, f"etcd.service with poolscale.conf: exit {rc}\n{out}"


@pytest.mark.parametrize("unit", UNITS)
def test_unit_flags_exist(unit):
    s = unit_settings(SYSTEMD / f"{unit}.service")
    argv = shlex.split(s["ExecStart"][-1])
    sub = argv[1]
    flags = [a.split("=")[0] for a in argv[2:] if a.startswith("--")]
    assert flags
    r = subprocess.run([BIN, sub, "--help"], capture_output=True, timeout=30)
    text = (r.stdout + r.stderr).decode()
    assert r.returncode == 0, f"poolscale {sub} --help: exit {r.returncode}\n{text}"
    for f in flags:
        assert re.search(rf"(^|[\s\[(,]){re.escape(f)}(?![\w-])", text, re.M), \
            f"{unit}: poolscale {sub} has no {f}:\n{text}"


# --- Grafana ----------------------------------------------------------------------

def grafana_files():
    yaml = need_yaml()
    ds = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yaml").read_text())
    prov = yaml.safe_load((GRAFANA / "provisioning/dashboards/poolscale.yaml").read_text())
    alerting_text = (GRAFANA / "provisioning/alerting/poolscale.yaml").read_text()
    alerting = yaml.safe_load(alerting_text)
    dash = json.loads((GRAFANA / "dashboards/poolscale.json").read_text())
    return ds, prov, alerting, alerting_text, dash


def test_grafana_provisioning():
    ds, prov, alerting, alerting_text, dash = grafana_files()
    assert ds["apiVersion"] == 1 and len(ds["datasources"]) == 1
    uid = ds["datasources"][0]["uid"]
    assert ds["datasources"][0]["type"] == "prometheus"
    assert ds["datasources"][0]["url"] == "http://127.0.0.1:9090"
    [p] = prov["providers"]
    assert prov["apiVersion"] == 1 and p["type"] == "file"
    assert p["options"]["path"] == "/var/lib/grafana/dashboards/poolscale"

    # dashboard: every panel queries the provisioned datasource
    ids = set()
    for panel in dash["panels"]:
        assert panel["id"] not in ids
        ids.add(panel["id"])
        assert panel["title"] and panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], f"{panel['title']}: no target"
        for t in panel["targets"]:
            assert t["expr"].strip(), f"{panel['title']}: a target without expr"
            assert t["datasource"]["uid"] == uid
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    for name in ("poolscale_pool_desired_size", "poolscale_pool_members", 'node_cpu_seconds_total{job="pool"',
                 "poolscale_app_http_requests_total", "poolscale_app_http_request_duration_seconds_bucket",
                 "poolscale_instances_started_total", "poolscale_provider_errors_total"):
        assert name in exprs, name

    # alert rules: the Prometheus rules' thresholds, routed to /up and /down
    assert alerting["apiVersion"] == 1
    rules = {r["labels"]["poolscale_action"]: r for g in alerting["groups"] for r in g["rules"]}
    assert set(rules) == {"up", "down"}
    prom_rules = (DEPLOY / "prometheus/rules/poolscale.yml").read_text()
    assert "> 0.8" in prom_rules and "< 0.2" in prom_rules
    for action, op, threshold, for_ in (("up", "gt", 0.8, "1m"), ("down", "lt", 0.2, "5m")):
        r = rules[action]
        assert r["for"] == for_ and r["noDataState"] == "OK"
        data = {d["refId"]: d for d in r["data"]}
        assert r["condition"] in data
        cond = data[r["condition"]]
        assert cond["datasourceUid"] == "__expr__"
        [c] = cond["model"]["conditions"]
        assert c["evaluator"] == {"type": op, "params": [threshold]}
        query = data[cond["model"]["expression"]]
        assert query["datasourceUid"] == uid and query["model"]["expr"].strip()
    points = {cp["name"]: cp for cp in alerting["contactPoints"]}
    for action in ("up", "down"):
        [rcv] = points[f"poolscale-{action}"]["receivers"]
        assert rcv["type"] == "webhook"
        assert rcv["settings"]["url"].endswith(f"/{action}"), rcv["settings"]["url"]
    [policy] = alerting["policies"]
    known = set(points) | {"grafana-default-email"}  # Grafana's built-in contact point
    assert policy["receiver"] in known
    routes = policy["routes"]
    for route in routes:
        assert route["receiver"] in known, route["receiver"]
    # each rule's labels reach the contact point of its direction
    for action, r in rules.items():
        matching = [rt["receiver"] for rt in routes
                    if all(r["labels"].get(k) == v for k, o, v in rt["object_matchers"] if o == "=")]
        assert matching[:1] == [f"poolscale-{action}"], (action, matching)
    # Grafana expands $VARS in the values of provisioning files: the only
    # one may be the token (a {{ $labels.x }} in an annotation would vanish)
    def strings(v):
        if isinstance(v, dict):
            for x in v.values():
                yield from strings(x)
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)
        elif isinstance(v, str):
            yield v
    dollars = [s for s in strings(alerting) if "$" in s]
    assert dollars == ["${POOLSCALE_API_TOKEN}"] * 2, dollars


def test_grafana_promql_parses(tmp_path):
    """Every expression of the dashboard and the alert rules, through promtool."""
    _, _, alerting, _, dash = grafana_files()
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [d["model"]["expr"] for g in alerting["groups"] for r in g["rules"]
              for d in r["data"] if d["datasourceUid"] != "__expr__"]
    rules = []
    for i, e in enumerate(exprs):
        for var in ("$__rate_interval", "$__interval", "$__range"):
            e = e.replace(var, "1m")
        assert "$" not in e, e
        rules.append({"record": f"poolscale:check_{i}", "expr": e})
    f = tmp_path / "grafana-rules.yml"
    f.write_text(json.dumps({"groups": [{"name": "grafana", "rules": rules}]}))
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    _, out = run(promtool, "check", "rules", str(f))
    assert f"SUCCESS: {len(rules)} rules found" in out, out


def test_grafana_metric_names_exist(start_app, pool):
    """The series the dashboard and the alert rules query are exported by
    the real app (both ports) and controller."""
    import urllib.request
    from conftest import get
    _, _, alerting, _, dash = grafana_files()
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [d["model"]["expr"] for g in alerting["groups"] for r in g["rules"]
              for d in r["data"] if d["datasourceUid"] != "__expr__"]
    wanted = set(re.findall(r"\b((?:poolscale|node|process)_[a-z_]+)", " ".join(exprs)))
    assert len(wanted) >= 8, wanted
    app = start_app()
    pages = get(app.addr, "/metrics").body.decode() + get(app.maddr, "/metrics").body.decode()
    c = pool()
    with urllib.request.urlopen(c.api + "/metrics", timeout=10) as r:
        pages += r.read().decode()
    exported = set(re.findall(r"^([a-z_:]+)[{ ]", pages, re.M))
    missing = sorted(w for w in wanted if w not in exported)
    assert not missing, f"not exported by poolscale app or controller: {missing}"


# --- docs -----------------------------------------------------------------------

def test_cloud_docs():
    doc = (pathlib.Path(ROOT) / "docs/cloud.md").read_text()
    for needle in ("terraform init", "terraform apply", "terraform destroy", "poolscale load",
                   "providers.md", "operator_cidr", "poolscale_url", "poolscale_sha256",
                   "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup",
                   "autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances",
                   "scale-instance-pool", "evict-instance-pool-members",
                   "linodes:read_write", "nodebalancers:read_write", "LINODE_TOKEN"):
        assert needle in doc, needle
    # every variable without a default is explained
    for cloud in CLOUDS:
        mod = Module(TERRAFORM / cloud)
        for name, v in mod.variables.items():
            if "default" not in v.body.attributes:
                assert name in doc, f"docs/cloud.md does not mention {cloud}'s variable {name}"
