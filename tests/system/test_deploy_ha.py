"""The HA deploy variants (deploy/terraform/exoscale-ha, aws-ha): their layout (two
controllers, three etcd members, a private network, the ha: block), and the
etcd configuration its cloud-init writes, run for real: the three members'
etcd.env files, moved to loopback addresses and test certificates, form a
TLS cluster that admits only clients with a certificate from its CA.
test_deploy_cloud.py checks the variant like the other clouds (schema,
secrets, rendering, limits)."""
import os
import re
import signal
import subprocess
import urllib.request

import pytest

import hcl
from conftest import random_address_base, scaled, wait_until
from etcd_cluster import b64, etcd_binary, free_port_on, request, tls_opener
from pki import PKI
from test_deploy_cloud import (TERRAFORM, Module, ModuleContext, arg, need_yaml, ref_to,
                               rendered, rules_of, write_files)

HA_CLOUDS = ("exoscale-ha", "aws-ha")
# The keys of the controller's ha: block (issue 19; docs/ha.md).
HA_KEYS = {"etcd_endpoints", "lease", "name", "prefix", "timeout", "ca_file", "cert_file",
           "key_file", "username", "password_file"}


def local(mod, name):
    return ModuleContext(mod).lookup(hcl.Traversal("local", [("attr", name)], 0))


def env_file(text):
    """KEY=VALUE lines of an environment file, comments left out."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k] = v
    return out


def exoscale_placement(mod, etcd_ips, mgmt_ips):
    for name, ips in (("etcd", etcd_ips), ("management", mgmt_ips)):
        inst = mod.resources[("exoscale_compute_instance", name)]
        [nic] = inst.body.blocks_of("network_interface")
        assert ref_to(arg(nic, "network_id")) == "exoscale_private_network.ha"
        got = [hcl.evaluate(arg(nic, "ip_address"), ModuleContext(mod, count_index=i))
               for i in range(len(ips))]
        assert got == ips, name
        [group] = arg(inst, "anti_affinity_group_ids").items
        assert ref_to(group) == f"exoscale_anti_affinity_group.{name}"
    # a new template or user data must not replace the three members at once
    ignored = {t.root for lc in mod.resources[("exoscale_compute_instance", "etcd")].body.blocks_of(
        "lifecycle") for t in lc.body.attributes["ignore_changes"].expr.items}
    assert {"template_id", "user_data"} <= ignored
    net = mod.resources[("exoscale_private_network", "ha")]
    start, end = (hcl.evaluate(arg(net, k), ModuleContext(mod)) for k in ("start_ip", "end_ip"))
    last = lambda ip: int(ip.rsplit(".", 1)[1])  # noqa: E731
    for ip in etcd_ips + mgmt_ips:  # static leases outside the dynamic range
        assert ip.startswith("10.0.0.") and not last(start) <= last(ip) <= last(end), ip
    # etcd is never reachable from the internet: no rule opens its ports
    # (security groups filter the public side only; etcd listens privately).
    for name, r in rules_of(mod, "exoscale_security_group_rule").items():
        port = hcl.evaluate(arg(r, "start_port"), ModuleContext(mod))
        assert port not in (2379, 2380), name


def aws_placement(mod, etcd_ips, mgmt_ips):
    import ipaddress
    # the management group is ../aws's (module pool), etcd's is made here
    groups = {"etcd": "aws_security_group.etcd", "management": "module.pool.management_security_group_id"}
    subnets = ModuleContext(mod).lookup(hcl.Traversal("data", [("attr", "aws_subnet"),
                                                               ("attr", "spread")], 0))
    for name, ips in (("etcd", etcd_ips), ("management", mgmt_ips)):
        inst = mod.resources[("aws_instance", name)]
        for i, ip in enumerate(ips):
            ctx = ModuleContext(mod, count_index=i)
            assert hcl.evaluate(arg(inst, "private_ip"), ctx) == ip
            # one zone each: the address is in the subnet the instance goes to
            step = arg(inst, "subnet_id")
            [index] = [st[1] for st in step.steps if st[0] == "index"]
            assert step.attrs()[:2] == ["aws_subnet", "spread"] and \
                hcl.evaluate(index, ctx) == i, name
            assert ipaddress.ip_address(ip) in ipaddress.ip_network(subnets[i]["cidr_block"])
        [sg] = arg(inst, "vpc_security_group_ids").items
        assert ref_to(sg) == groups[name]
    # etcd's ports: clients from the management instances, peers from the
    # members, nothing from an address range.
    got = set()
    for name, r in rules_of(mod, "aws_vpc_security_group_ingress_rule").items():
        port = hcl.evaluate(arg(r, "from_port"), ModuleContext(mod))
        group = ref_to(arg(r, "security_group_id"))
        src = r.body.attributes.get("referenced_security_group_id")
        if port in (2379, 2380) or group == "aws_security_group.etcd":
            got.add((group, port, ref_to(src.expr) if src else
                     hcl.evaluate(arg(r, "cidr_ipv4"), ModuleContext(mod))))
    assert got == {("aws_security_group.etcd", 2379, groups["management"]),
                   ("aws_security_group.etcd", 2380, "aws_security_group.etcd"),
                   ("aws_security_group.etcd", 22, "203.0.113.7/32")}, got
    # a new Debian image must not replace the three members at once
    ignored = {t.root for lc in mod.resources[("aws_instance", "etcd")].body.blocks_of("lifecycle")
               for t in lc.body.attributes["ignore_changes"].expr.items}
    assert {"ami", "user_data_base64"} <= ignored


@pytest.mark.parametrize("cloud", HA_CLOUDS)
def test_ha_layout(cloud):
    yaml = need_yaml()
    mod = Module(TERRAFORM / cloud)
    etcd_ips, mgmt_ips = local(mod, "etcd_ips"), local(mod, "management_ips")
    assert len(etcd_ips) == 3 and len(mgmt_ips) == 2 and not set(etcd_ips) & set(mgmt_ips)

    # Counts and names of the instances, then where they go.
    rtype = "exoscale_compute_instance" if cloud.startswith("exoscale") else "aws_instance"
    for name, ips in (("etcd", etcd_ips), ("management", mgmt_ips)):
        inst = mod.resources[(rtype, name)]
        count = arg(inst, "count")
        assert isinstance(count, hcl.Call) and count.name == "length"
        assert hcl.evaluate(count, ModuleContext(mod)) == len(ips)
        if rtype == "exoscale_compute_instance":  # the host name: ha.name's default
            names = {hcl.evaluate(arg(inst, "name"), ModuleContext(mod, count_index=i))
                     for i in range(len(ips))}
            assert len(names) == len(ips), names
    (exoscale_placement if cloud.startswith("exoscale") else aws_placement)(mod, etcd_ips, mgmt_ips)

    # The controllers' ha: block names the three members over TLS, with
    # the lead's keys only, and no name: the host names (instance names) differ.
    user_data = rendered(cloud)
    _, files = write_files(user_data["management"])
    cfg = yaml.safe_load(files["/etc/poolscale/controller.yml"]["content"])
    assert set(cfg["ha"]) <= HA_KEYS, set(cfg["ha"]) - HA_KEYS
    assert cfg["ha"]["etcd_endpoints"] == [f"https://{ip}:2379" for ip in etcd_ips]
    assert "name" not in cfg["ha"]
    assert cfg["api"]["listen"] == "0.0.0.0:9900"
    am = yaml.safe_load(files["/etc/prometheus/alertmanager.yml"]["content"])
    assert [h["url"] for h in am["receivers"][0]["webhook_configs"]] == \
        [f"http://{ip}:9900/api/v1/alerts" for ip in mgmt_ips]

    # Certificates: the members' is valid for their addresses, as server and
    # peer; the controllers' is a client certificate.
    # (made by ../modules/etcd, with the addresses the variant passes)
    pki = ModuleContext(mod).child("etcd")
    req = pki.mod.resources[("tls_cert_request", "etcd_server")]
    assert set(etcd_ips) <= set(hcl.evaluate(arg(req, "ip_addresses"), pki))
    uses = lambda n: hcl.evaluate(arg(pki.mod.resources[("tls_locally_signed_cert", n)],  # noqa: E731
                                      "allowed_uses"), pki)
    assert {"server_auth", "client_auth"} <= set(uses("etcd_server"))
    assert "client_auth" in uses("etcd_client") and "server_auth" not in uses("etcd_client")

    # Each member: its own name and address, one cluster, TLS everywhere.
    dropin = (TERRAFORM.parent / "systemd/etcd.service.d/poolscale.conf").read_text()
    creds = dict(line.split("=", 1)[1].split(":", 1) for line in dropin.splitlines()
                 if line.startswith("LoadCredential="))
    cluster = ",".join(f"etcd-{i + 1}=https://{ip}:2380" for i, ip in enumerate(etcd_ips))
    for i, ip in enumerate(etcd_ips):
        doc, files = write_files(user_data[f"etcd-{i + 1}"])
        assert {"etcd-server"} <= set(doc["packages"])
        env = env_file(files["/etc/poolscale/etcd.env"]["content"])
        assert env["ETCD_NAME"] == f"etcd-{i + 1}"
        for k in ("LISTEN_CLIENT_URLS", "ADVERTISE_CLIENT_URLS"):
            assert env[f"ETCD_{k}"] == f"https://{ip}:2379", k
        for k in ("LISTEN_PEER_URLS", "INITIAL_ADVERTISE_PEER_URLS"):
            assert env[f"ETCD_{k}"] == f"https://{ip}:2380", k
        assert env["ETCD_INITIAL_CLUSTER"] == cluster
        assert env["ETCD_CLIENT_CERT_AUTH"] == env["ETCD_PEER_CLIENT_CERT_AUTH"] == "true"
        for k in ("CERT_FILE", "KEY_FILE", "TRUSTED_CA_FILE", "PEER_CERT_FILE", "PEER_KEY_FILE",
                  "PEER_TRUSTED_CA_FILE"):
            cid = env[f"ETCD_{k}"].removeprefix("/run/credentials/etcd.service/")
            assert cid in creds, f"ETCD_{k}: no LoadCredential= {cid}"
            assert creds[cid] in files, f"{creds[cid]} is not written by cloud-init"
        assert files["/etc/poolscale/etcd-server-key.pem"]["permissions"] == "0600"
        assert files["/etc/systemd/system/etcd.service.d/poolscale.conf"]["content"] == dropin
        network = ["/usr/local/sbin/poolscale-private-network"]
        assert (doc["runcmd"][0] == network) == cloud.startswith("exoscale"), doc["runcmd"]
        assert doc["runcmd"][-1] == ["systemctl", "restart", "etcd.service"]


# --- the members' configuration, run --------------------------------------------

def call(opener, url, body=None, timeout=2.0):
    return request(url, body, timeout, opener)


@pytest.mark.parametrize("cloud", HA_CLOUDS)
def test_ha_etcd_config_forms_a_tls_cluster(cloud, tmp_path):
    """The three etcd.env files as cloud-init writes them, with 10.0.0.1x
    moved to loopback addresses, the ports to free ones and the credential
    paths to certificates made here, are what the members run with (no
    flag added): they form one cluster over TLS and let in only clients
    with a certificate from the CA."""
    exe = etcd_binary()
    user_data = rendered(cloud)
    envs = []
    for i in range(3):
        _, files = write_files(user_data[f"etcd-{i + 1}"])
        envs.append(files["/etc/poolscale/etcd.env"]["content"])
    prefix = random_address_base().rsplit(".", 1)[0]
    addr = {ip: f"{prefix}.{i + 1}" for i, ip in enumerate(local(Module(TERRAFORM / cloud), "etcd_ips"))}
    ports = {(a, p): free_port_on(b) for a, b in addr.items() for p in (2379, 2380)}
    pki = PKI(tmp_path / "pki")
    # With client-cert-auth etcd checks a peer's certificate IPs against the
    # connection's source address, which on loopback is 127.0.0.1: the
    # Terraform certificate has it too (and the members' own addresses).
    etcd = ModuleContext(Module(TERRAFORM / cloud)).child("etcd")
    req = etcd.mod.resources[("tls_cert_request", "etcd_server")]
    assert "127.0.0.1" in hcl.evaluate(arg(req, "ip_addresses"), etcd)
    member_cert = pki.issue("etcd", ips=list(addr.values()) + ["127.0.0.1"], server=True)
    client_cert = pki.issue("poolscale")
    cred = {"etcd-ca": pki.ca, "etcd-server-cert": member_cert[0], "etcd-server-key": member_cert[1]}

    def moved(text, i):
        for (a, p), port in ports.items():
            text = text.replace(f"{a}:{p}", f"{addr[a]}:{port}")
        for cid, path in cred.items():
            text = text.replace(f"/run/credentials/etcd.service/{cid}\n", f"{path}\n")
        text = text.replace("/var/lib/etcd/poolscale", str(tmp_path / f"data{i}"))
        assert not any(a in text for a in addr) and "/run/credentials" not in text, text
        return env_file(text)

    base = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "ETCDCTL_"))}
    procs = []
    try:
        for i, text in enumerate(envs):
            log = open(tmp_path / f"etcd-{i + 1}.log", "wb")
            procs.append(subprocess.Popen([exe], env=dict(base, **moved(text, i)), stdout=log,
                                          stderr=log, stdin=subprocess.DEVNULL))
            log.close()
        urls = [f"https://{addr[a]}:{ports[(a, 2379)]}" for a in addr]
        client = tls_opener(pki.ca, client_cert)

        def healthy():
            for i, p in enumerate(procs):
                assert p.poll() is None, (tmp_path / f"etcd-{i + 1}.log").read_text()[-3000:]
            return all(call(client, u + "/health")[0] == 200 for u in urls)
        wait_until(healthy, "the TLS etcd cluster healthy", timeout=20, every=0.2)

        # One cluster: written through member 1, read through member 3.
        st, body = call(client, urls[0] + "/v3/kv/put", {"key": b64("/poolscale/k"), "value": b64("v")})
        assert st == 200, body
        st, body = call(client, urls[2] + "/v3/kv/range", {"key": b64("/poolscale/k")})
        assert st == 200 and body["kvs"][0]["value"] == b64("v"), body
        st, body = call(client, urls[0] + "/v3/maintenance/status", {})
        assert st == 200, body

        # No client certificate, or none from this CA: no connection.
        st, why = call(tls_opener(pki.ca), urls[1] + "/health")
        assert st is None and re.search(r"(?i)certificate|alert|reset|handshake|EOF", why), why
        other = PKI(tmp_path / "other-pki").issue("intruder")
        st, why = call(tls_opener(pki.ca, other), urls[1] + "/health")
        assert st is None, why
        # Plain HTTP is not served.
        st, _ = call(urllib.request.build_opener(urllib.request.ProxyHandler({})),
                     urls[1].replace("https://", "http://") + "/health")
        assert st != 200
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
        for p in procs:
            p.wait(scaled(10))


def test_ha_docs():
    root = TERRAFORM.parent.parent
    ha_doc = (root / "docs/ha.md").read_text()
    for section in ("## Design", "## Guarantees", "## Limits", "## Configuration", "## Operating it"):
        assert f"\n{section}\n" in ha_doc, section
    for key in HA_KEYS:
        assert f"`ha.{key}`" in ha_doc, f"docs/ha.md does not explain ha.{key}"
    assert "POOLSCALE_ETCD_PASSWORD" in ha_doc and "fencing token" in ha_doc
    cloud = (root / "docs/cloud.md").read_text()
    assert "\n## High availability\n" in cloud and "(ha.md)" in cloud
    for needle in ("deploy/terraform/exoscale-ha", "deploy/terraform/aws-ha", "etcd_instance_type", "standard.medium",
                   "standard.small", "anti-affinity", "private network", "no quorum"):
        assert needle in cloud, needle
    # every variable the HA variant adds is explained
    for ha_cloud in HA_CLOUDS:
        single = Module(TERRAFORM / ha_cloud.removesuffix("-ha")).variables
        for name in set(Module(TERRAFORM / ha_cloud).variables) - set(single):
            assert name in cloud, f"docs/cloud.md does not mention {ha_cloud}'s variable {name}"
    assert "(docs/ha.md)" in (root / "README.md").read_text()
