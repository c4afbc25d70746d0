"""The development PKI: a CA and one certificate per party, in a git-ignored folder.

`python -m runtime.pki init --dir var/pki` creates what is missing and keeps what exists, so it is
idempotent: the CA (`ca.pem`, `ca.key`) and, for each party of `DEV_PARTIES`, `<name>.pem` and
`<name>.key`. `python -m runtime.pki issue --dir var/pki --name NAME --uri URI` adds one.

Every certificate names exactly one party by a URI SAN (see runtime.identity), and by a DNS SAN
`<kind>-<id>.carrefour.local` (`party_host`) so that a client can require a server to be a given
party: it connects with that name as the TLS target name, and the handshake fails unless the
server's certificate names that party (the router does this for every holder). It also carries
`localhost` and `127.0.0.1`. Keys are ECDSA P-256. This is a development PKI: production
issues certificates from the institution's own CA with the same SAN layout.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import ipaddress
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runtime.identity import TRUST_DOMAIN

_VALIDITY = dt.timedelta(days=825)
_CA_VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class Party:
    """A certificate to issue: the file stem and the party's SPIFFE path (`<kind>/<id>`)."""

    name: str
    path: str

    @property
    def uri(self) -> str:
        return f"spiffe://{TRUST_DOMAIN}/{self.path}"


#: The parties of the development mesh. A service's process presents the certificate of the
#: institution that owns it (the registry is the National Register's; DIMONA, DmfA and DRS are
#: ONSS's); the router and each hub are routers; Envoy is the gateway.
DEV_PARTIES: tuple[Party, ...] = (
    # Service processes.
    Party("echo", "institution/cbss"),
    Party("registry", "institution/nr"),
    Party("router", "router/cbss"),
    Party("hub-cin", "router/cin"),
    Party("onss", "institution/onss"),
    # The research data warehouse (the CBSS's) and its trusted third party (pseudonymisation).
    Party("warehouse", "institution/cbss-dwh"),
    Party("ttp", "institution/cbss-ttp"),
    # The portal's web process (pages and the development identity provider), the CBSS's.
    Party("portal", "institution/cbss"),
    # Institutions calling the network.
    Party("institution-cbss", "institution/cbss"),
    Party("institution-nr", "institution/nr"),
    Party("institution-onem", "institution/onem"),
    Party("institution-inami", "institution/inami"),
    Party("institution-cin", "institution/cin"),
    Party("institution-mut-100", "institution/mut-100"),
    Party("institution-mut-200", "institution/mut-200"),
    Party("institution-fedris", "institution/fedris"),
    Party("institution-famiwal", "institution/famiwal"),
    # A work-accident insurer (its institution inbox receives work-accident attestations).
    Party("institution-ethias", "institution/ethias"),
    # A research centre granted research projects in the warehouse (its exports).
    Party("institution-hiva", "institution/hiva"),
    # Employers (ONSS numbers) and a payroll bureau (KBO number).
    Party("employer-000935467", "employer/000935467"),
    Party("employer-000100006", "employer/000100006"),
    Party("bureau-0314595348", "bureau/0314595348"),
    # Operators and the edge.
    Party("admin-ops", "admin/ops"),
    Party("gateway", "gateway"),
)


@dataclass(frozen=True)
class Authority:
    """A CA: its certificate and key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew


def create_ca(common_name: str = "Carrefour development CA") -> Authority:
    """A new self-signed CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def party_host(uri: str) -> str:
    """The DNS name a party's certificate carries: `institution-nr.carrefour.local`."""
    path = uri.removeprefix(f"spiffe://{TRUST_DOMAIN}/")
    return f"{path.replace('/', '-')}.{TRUST_DOMAIN}"


def issue(ca: Authority, uri: str, *, common_name: str | None = None) -> tuple[bytes, bytes]:
    """A leaf certificate for the party `uri`, usable as client and server. Returns (pem, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cn = common_name or uri.rsplit("/", 2)[-2] + "/" + uri.rsplit("/", 1)[-1]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn[:64])]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(uri),
                    x509.DNSName(party_host(uri)),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    if private:
        os.chmod(tmp, 0o600)
    tmp.replace(path)  # atomic: a half-written certificate is never seen


def load_or_create_ca(directory: Path) -> Authority:
    """The CA kept in `directory`, created there if absent."""
    cert_path, key_path = directory / "ca.pem", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SystemExit(f"{key_path}: not an EC key")
        return Authority(cert, key)
    directory.mkdir(parents=True, exist_ok=True)
    ca = create_ca()
    _write(key_path, _key_pem(ca.key), private=True)
    _write(cert_path, ca.cert.public_bytes(serialization.Encoding.PEM), private=False)
    return ca


def ensure_party(directory: Path, ca: Authority, party: Party) -> bool:
    """Issue `party`'s certificate unless it exists; True when one was issued."""
    cert_path, key_path = directory / f"{party.name}.pem", directory / f"{party.name}.key"
    if cert_path.exists() and key_path.exists() and _names_party(cert_path, party):
        return False
    pem, key = issue(ca, party.uri)
    _write(key_path, key, private=True)
    _write(cert_path, pem, private=False)
    return True


def _names_party(cert_path: Path, party: Party) -> bool:
    """Does an existing certificate carry this layout's names? (Older ones are re-issued.)"""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return party_host(party.uri) in sans.get_values_for_type(x509.DNSName)


#: The development identity provider's token-signing key (RS256: RSA 2048) and its public
#: JWKS, which the edge's JWT filter verifies tokens with (services/edge).
IDP_KEY = "idp-signing.key"
IDP_JWKS = "idp-jwks.json"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def ensure_idp_key(directory: Path) -> bool:
    """Create the identity provider's signing key and JWKS unless they exist; True when
    created. The key id is the SHA-256 thumbprint of the public key (RFC 7638)."""
    key_path, jwks_path = directory / IDP_KEY, directory / IDP_JWKS
    if key_path.exists() and jwks_path.exists():
        return False
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    thumbprint = hashlib.sha256(
        json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    ).digest()
    kid = base64.urlsafe_b64encode(thumbprint).decode("ascii").rstrip("=")
    jwks = {"keys": [{**members, "kid": kid, "alg": "RS256", "use": "sig"}]}
    _write(key_path, _key_pem(key), private=True)
    _write(jwks_path, json.dumps(jwks, indent=2).encode(), private=False)
    return True


def idp_jwks(directory: Path) -> dict:
    """The identity provider's public JWKS (`ensure_idp_key` first)."""
    return json.loads((directory / IDP_JWKS).read_text())


def init(directory: Path, parties: tuple[Party, ...] = DEV_PARTIES) -> list[str]:
    """Create the CA, every missing party certificate and the identity provider's signing key;
    returns the names issued."""
    ca = load_or_create_ca(directory)
    issued = [p.name for p in parties if ensure_party(directory, ca, p)]
    if ensure_idp_key(directory):
        issued.append(IDP_KEY)
    return issued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m runtime.pki", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", help="create the CA and the development parties' certificates")
    p_init.add_argument("--dir", type=Path, default=Path("var/pki"))
    p_issue = sub.add_parser("issue", help="issue one more party certificate")
    p_issue.add_argument("--dir", type=Path, default=Path("var/pki"))
    p_issue.add_argument("--name", required=True, help="file stem, e.g. institution-famifed")
    p_issue.add_argument("--path", required=True, help="party path, e.g. institution/famifed")
    args = parser.parse_args(argv)
    if args.command == "init":
        issued = init(args.dir)
        sys.stdout.write(
            f"PKI in {args.dir}: CA and {len(DEV_PARTIES)} parties"
            + (f" ({len(issued)} issued now)" if issued else " (all present)")
            + "\n"
        )
    else:
        from runtime.identity import IdentityError, parse_spiffe_uri

        party = Party(args.name, args.path)
        try:
            parse_spiffe_uri(party.uri)
        except IdentityError as exc:
            parser.error(f"--path does not name a party: {exc}")
        ca = load_or_create_ca(args.dir)
        if not ensure_party(args.dir, ca, party):
            parser.error(f"{args.name} already exists in {args.dir}")
        sys.stdout.write(f"issued {args.dir / args.name}.pem for {party.uri}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
