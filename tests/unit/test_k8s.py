"""The Kubernetes manifests: every overlay renders (kubectl's kustomize) and validates offline
(kubernetes-validate --strict, no warning); the edge's ConfigMap is the renderer's output; the
NetworkPolicies mean what they say; every container is hardened; the Dockerfile, statically
(no Docker engine here)."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge.__main__ import kubernetes_config
from edge.envoy import render

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OVERLAYS = ["dev", "production"]


@functools.cache
def rendered(overlay: str) -> str:
    done = subprocess.run(
        [str(BIN / "kubectl"), "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def documents(overlay: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(rendered(overlay)) if d]


def of_kind(overlay: str, kind: str) -> list[dict]:
    return [d for d in documents(overlay) if d["kind"] == kind]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_validates_strictly_without_warnings(
    overlay: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(rendered(overlay))
    done = subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "--quiet", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARN" not in done.stdout + done.stderr
    assert "ERROR" not in done.stdout + done.stderr


def test_the_edge_configmap_is_the_renderers_output() -> None:
    """k8s/base/edge/envoy.json == `python -m edge render --kubernetes` now: one source."""
    kept = json.loads((ROOT / "k8s/base/edge/envoy.json").read_text())
    assert kept == render(kubernetes_config()), "run: python -m edge render --kubernetes"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_non_root_read_only_probed_and_bounded(overlay: str) -> None:
    for workload in of_kind(overlay, "Deployment") + of_kind(overlay, "StatefulSet"):
        pod = workload["spec"]["template"]["spec"]
        name = workload["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        main = pod["containers"][0]
        assert "readinessProbe" in main and "livenessProbe" in main, name
        if workload["kind"] == "Deployment" and name != "edge":
            # Native gRPC probes on the services' plaintext health-only port (the portal, an
            # HTTPS process: GET /healthz there); a grace period longer than their
            # SHUTDOWN_GRACE_SECONDS (10).
            probe = main["readinessProbe"]
            port = probe["grpc"]["port"] if name != "portal" else probe["httpGet"]["port"]
            assert port == 8086, name
            assert pod["terminationGracePeriodSeconds"] > 10, name
            env = {e["name"]: e.get("value") for e in main["env"]}
            assert env["PROBE_PORT"] == "8086", name
            assert env["TLS_CERT_FILE"].startswith("/etc/carrefour/tls/"), name
            secrets = [v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v]
            # Certificates; in the dev cluster, the development identity provider's key; the
            # TTP's keys.
            other = ["idp-signing"] if name == "portal" and overlay == "dev" else []
            other += ["ttp-keys"] if name == "ttp" else []
            assert secrets and all(s.startswith("tls-") for s in secrets if s not in other)
            assert set(secrets) - {s for s in secrets if s.startswith("tls-")} == set(other)


def test_production_runs_several_routers_with_an_autoscaler_and_postgresql_per_institution() -> (
    None
):
    deployments = {d["metadata"]["name"]: d for d in of_kind("production", "Deployment")}
    assert deployments["router"]["spec"]["replicas"] >= 2
    (hpa,) = of_kind("production", "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "router"
    databases = {s["metadata"]["name"] for s in of_kind("production", "StatefulSet")}
    for name, deployment in deployments.items():
        if name in ("edge", "portal", "ttp"):  # no database: the gateway, the pages, the TTP
            continue
        institution = deployment["spec"]["template"]["metadata"]["labels"][
            "carrefour.local/institution"
        ]
        env = {
            e["name"]: e.get("value")
            for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        # The last DATABASE_URL wins in a container's env: it must be the institution's server.
        urls = [
            e.get("value")
            for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
            if e["name"] == "DATABASE_URL"
        ]
        assert urls and f"@postgres-{institution}:5432/" in urls[-1], name
        assert f"postgres-{institution}" in databases, name
        assert "PGPASSWORD" in env, name


# --- NetworkPolicy intent -------------------------------------------------------------------


def _matches(selector: dict, labels: dict) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"])
        if expression["operator"] == "In" and present not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and present in expression["values"]:
            return False
    return True


def _pods(overlay: str) -> dict[str, dict]:
    return {
        w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"]
        for w in of_kind(overlay, "Deployment") + of_kind(overlay, "StatefulSet")
    }


def reachable(overlay: str, source: str, target: str, port: int) -> bool:
    """Whether `source`'s pods may open `port` on `target`'s pods (same namespace), under
    Kubernetes' rule: isolated by any policy selecting the target, then allowed by any rule."""
    pods = _pods(overlay)
    policies = [
        p
        for p in of_kind(overlay, "NetworkPolicy")
        if _matches(p["spec"]["podSelector"], pods[target])
    ]
    if not policies:
        return True
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            peers = rule.get("from")
            if peers is None:
                return True
            for peer in peers:
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    if _matches(peer["podSelector"], pods[source]):
                        return True
    return False


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize(
    ("source", "target", "port", "allowed"),
    [
        ("edge", "registry", 50051, False),  # the register is unreachable from the gateway
        ("router", "registry", 50051, True),
        ("hub-cin", "registry", 50051, True),
        ("dimona", "registry", 50051, False),  # DIMONA asks the router, never the register
        ("edge", "inbox-onem", 50060, False),
        ("router", "inbox-onem", 50060, True),
        ("hub-cin", "inbox-mut-100", 50061, True),
        ("edge", "dimona", 50056, True),  # declarations
        ("router", "dimona", 50056, True),  # consultations
        ("inbox-onem", "dimona", 50056, False),
        ("edge", "router", 50052, True),
        ("dmfa", "router", 50052, True),
        ("registry", "router", 50052, False),
        ("router", "mut-100", 50054, False),  # members only behind their hub
        ("hub-cin", "mut-100", 50054, True),
        ("edge", "mutation", 50059, True),
        ("mutation", "dmfa", 50057, True),  # the event feed
        ("edge", "portal", 50047, True),  # the portal's pages, behind the browser listener
        ("router", "portal", 50047, False),
        ("edge", "warehouse", 50065, True),  # research centres, operators, people's charts
        ("router", "warehouse", 50065, False),
        ("ttp", "warehouse", 50065, False),
        ("warehouse", "ttp", 50066, True),  # the TTP codes for the warehouse alone
        ("edge", "ttp", 50066, False),
        ("router", "ttp", 50066, False),
        ("registry", "ttp", 50066, False),
        ("ttp", "router", 50052, True),  # its research extractions, through the router
        ("warehouse", "router", 50052, False),  # the warehouse never reads a source itself
        ("ttp", "registry", 50051, False),
        ("ttp", "dimona", 50056, False),
    ],
)
def test_network_policies_let_in_only_the_intended_callers(
    overlay: str, source: str, target: str, port: int, allowed: bool
) -> None:
    assert reachable(overlay, source, target, port) is allowed


def test_an_institutions_database_is_reached_by_its_own_services_only() -> None:
    assert reachable("production", "registry", "postgres-nr", 5432)
    assert not reachable("production", "router", "postgres-nr", 5432)
    assert reachable("production", "drs", "postgres-onss", 5432)
    assert not reachable("production", "edge", "postgres-onss", 5432)
    assert reachable("production", "warehouse", "postgres-cbss", 5432)
    assert not reachable("production", "ttp", "postgres-cbss", 5432)  # the TTP keeps no data


def test_the_warehouse_database_is_created_on_the_cbss_server() -> None:
    (server,) = [
        s for s in of_kind("production", "StatefulSet") if s["metadata"]["name"] == "postgres-cbss"
    ]
    env = {
        e["name"]: e.get("value")
        for e in server["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "warehouse" in env["CARREFOUR_DATABASES"].split()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ttps_keys_come_from_a_secret_every_project_needs(overlay: str) -> None:
    """A person's code must never change: every key the projects file needs (`common`, and
    `project-<id>` per unlinkable project) is a file of the Secret ttp-keys in TTP_KEY_DIR, a
    writable folder the pod keeps for nothing else."""
    from ttp.config import PROJECTS_FILE
    from ttp.service.coding import key_name
    from ttp.service.projects import load_projects

    needed = {f"{key_name(p)}.key" for p in load_projects(PROJECTS_FILE).values()}
    assert needed == {"common.key", "project-hiva-wage-gap.key"}
    (ttp,) = [d for d in of_kind(overlay, "Deployment") if d["metadata"]["name"] == "ttp"]
    pod = ttp["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in main["env"]}
    folder = env["TTP_KEY_DIR"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = main["volumeMounts"]
    (key_dir,) = [m for m in mounts if m["mountPath"] == folder]
    assert "emptyDir" in volumes[key_dir["name"]] and not key_dir.get("readOnly")
    from_secret = {
        m["mountPath"].removeprefix(folder + "/"): m
        for m in mounts
        if "secret" in volumes[m["name"]]
        and volumes[m["name"]]["secret"]["secretName"] == "ttp-keys"
    }
    assert set(from_secret) == needed
    assert all(m["subPath"] == name and m["readOnly"] for name, m in from_secret.items())
    (secret,) = [
        v["secret"] for v in volumes.values() if v.get("secret", {}).get("secretName") == "ttp-keys"
    ]
    assert {i["key"] for i in secret["items"]} == needed  # a missing key: the pod does not start
    assert not secret.get("optional")


# --- The Dockerfile, statically -----------------------------------------------------------


def test_dockerfile_builds_a_pinned_non_root_image_running_python_m() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert bases and all(":" in b and not b.endswith(":latest") for b in bases)
    users = [line for line in lines if line.startswith("USER ")]
    assert users and users[-1].split()[1].split(":")[0] not in ("root", "0")
    assert lines[-1] == 'ENTRYPOINT ["/app/.venv/bin/python", "-m"]'
    assert not any(line.startswith("ADD ") for line in lines)  # COPY only: nothing fetched
    # The path Kubernetes runs Envoy from exists in the image the Dockerfile makes.
    edge = (ROOT / "k8s/base/edge/edge.yaml").read_text()
    assert "/app/.venv/lib/python3.11/site-packages/envoy/_bin/envoy" in edge
    assert "FROM python:3.11" in (ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize(("overlay", "dev_idp"), [("dev", "on"), ("production", "off")])
def test_the_development_identity_provider_runs_only_in_the_dev_cluster(
    overlay: str, dev_idp: str
) -> None:
    (portal,) = [d for d in of_kind(overlay, "Deployment") if d["metadata"]["name"] == "portal"]
    env = [e for e in portal["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert [e["value"] for e in env if e["name"] == "PORTAL_DEV_IDP"][-1] == dev_idp
    volumes = {v["name"] for v in portal["spec"]["template"]["spec"]["volumes"]}
    assert ("idp-signing" in volumes) == (dev_idp == "on")  # the signing key never in production
    (edge,) = [d for d in of_kind(overlay, "Deployment") if d["metadata"]["name"] == "edge"]
    edge_volumes = {v["name"]: v for v in edge["spec"]["template"]["spec"]["volumes"]}
    assert edge_volumes["idp-jwks"]["configMap"]["name"] == "idp-jwks"
