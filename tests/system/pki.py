"""A throwaway certificate authority for tests, made with the openssl
command (Debian's openssl; scripts/deps installs it), in the shape the HA
deployment's Terraform makes (deploy/terraform/exoscale-ha): an ECDSA P-256
CA, a member certificate for server and peer use with IP addresses, a
client certificate."""
import subprocess


def _run(*cmd, cwd):
    r = subprocess.run(cmd, capture_output=True, timeout=60, cwd=cwd)
    assert r.returncode == 0, f"{' '.join(cmd)}: {r.stderr.decode(errors='replace')}"


class PKI:
    def __init__(self, directory):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ca, self.ca_key = self.dir / "ca.pem", self.dir / "ca.key"
        _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(self.ca_key), "-out", str(self.ca), "-days", "2",
             "-subj", "/CN=poolscale test etcd CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=self.dir)

    def issue(self, name, ips=(), server=False):
        """(certificate, key) paths; server: usable as server and peer
        (serverAuth and clientAuth), else a client certificate."""
        key, csr, cert = self.dir / f"{name}.key", self.dir / f"{name}.csr", self.dir / f"{name}.pem"
        ext = self.dir / f"{name}.ext"
        lines = ["keyUsage=critical,digitalSignature,keyEncipherment",
                 "extendedKeyUsage=" + ("serverAuth,clientAuth" if server else "clientAuth")]
        if ips:
            lines.append("subjectAltName=" + ",".join(f"IP:{ip}" for ip in ips))
        ext.write_text("\n".join(lines) + "\n")
        _run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}", cwd=self.dir)
        _run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(self.ca), "-CAkey",
             str(self.ca_key), "-CAcreateserial", "-out", str(cert), "-days", "2",
             "-extfile", str(ext), cwd=self.dir)
        return cert, key
