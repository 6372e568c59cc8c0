"""Deployment files from `[deploy]`: each one parses, holds together, and what it runs works here.

No container engine or cluster runs on this machine, so the compose file is checked by running
what it runs: its nginx config (unchanged but for the addresses) in front of two replicas on a
shared Redis; `serve --workers 2` likewise. Kubernetes manifests get a structural check, since
kubectl cannot validate offline.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import httpx
import kubernetes_validate
import pytest
import redis
import tomli_w
import yaml
from prometheus_client.parser import text_string_to_metric_families

from . import serving
from .conftest import ROOT, mcpgen, require_or_skip, service_env

# The oldest Kubernetes minor still in common support; the manifests use only its stable APIs.
KUBERNETES_VERSION = "1.30.0"
NAME = "ops-kit"
PACKAGE = "ops_kit"
SPEC: dict[str, Any] = {
    "server": {"name": NAME, "stateless": True, "public_url": "https://ops.example.com"},
    "auth": {"provider": "builtin", "scopes": ["notes:read"]},
    "storage": {"backend": "redis"},
    "deploy": {
        "port": 8080,
        "workers": 2,
        "replicas": 2,
        "target": ["docker", "compose", "kubernetes", "fly", "render"],
    },
    "tools": [{"name": "echo", "description": "Say it back.", "params": [{"name": "text", "type": "string"}]}],
}
CALLBACK = "http://127.0.0.1:33418/callback"
PASSWORD = secrets.token_urlsafe(12)
ACCEPT = "application/json, text/event-stream"
API_VERSIONS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "Ingress": "networking.k8s.io/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PersistentVolumeClaim": "v1",
    "Secret": "v1",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mcpgen new` of a stateless builtin-auth server on Redis with every deploy target."""
    root = tmp_path_factory.mktemp("deploy")
    spec = root / "mcpgen.toml"
    spec.write_text(tomli_w.dumps(SPEC))
    code, output = mcpgen("new", str(root / NAME), "--spec", str(spec), "--yes")
    assert code == 0, output
    return root / NAME


def test_every_target_is_rendered_and_parses(project: Path) -> None:
    for name in (
        "Dockerfile",
        "compose.yaml",
        "deploy/nginx.conf",
        "deploy/kubernetes.yaml",
        "fly.toml",
        "render.yaml",
    ):
        assert (project / name).is_file(), name
    assert (project / "deploy/kubernetes-secret.example.yaml").is_file()
    yaml.safe_load((project / "compose.yaml").read_text())
    list(yaml.safe_load_all((project / "deploy/kubernetes.yaml").read_text()))
    tomllib.loads((project / "fly.toml").read_text())
    yaml.safe_load((project / "render.yaml").read_text())


def test_only_the_chosen_targets_are_rendered(tmp_path: Path) -> None:
    spec = tmp_path / "mcpgen.toml"
    spec.write_text(tomli_w.dumps({**SPEC, "deploy": {"target": ["kubernetes"]}}))
    code, output = mcpgen("new", str(tmp_path / "k8s"), "--spec", str(spec), "--yes")
    assert code == 0, output
    rendered = {p.relative_to(tmp_path / "k8s").as_posix() for p in (tmp_path / "k8s").rglob("*") if p.is_file()}
    assert {"Dockerfile", "deploy/kubernetes.yaml"} <= rendered  # the manifests run the image it builds
    assert not {"compose.yaml", "deploy/nginx.conf", "fly.toml", "render.yaml"} & rendered


def test_scale_out_needs_stateless_servers(tmp_path: Path) -> None:
    spec = tmp_path / "mcpgen.toml"
    spec.write_text(tomli_w.dumps({**SPEC, "server": {**SPEC["server"], "stateless": False}}))
    code, output = mcpgen("new", str(tmp_path / "refused"), "--spec", str(spec), "--yes")
    assert code == 2, output
    assert "deploy.workers: workers = 2 needs [server] stateless = true" in output
    assert "deploy.replicas: replicas = 2 needs [server] stateless = true" in output


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck(project: Path) -> None:
    dockerfile = (project / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) == 2
    assert re.search(r"^USER app$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert '"--workers", "2"' in dockerfile
    # PUBLIC_URL is blanked in the image, and a server without one refuses to start, saying why.
    assert re.search(r"^\s+PUBLIC_URL= \\$", dockerfile, re.M)
    env = {**serving.read_env(project / ".env"), "PUBLIC_URL": "", "PYTHONPATH": str(project)}
    result = subprocess.run(
        [sys.executable, "-m", PACKAGE, "serve"], env=env, cwd=project, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "PUBLIC_URL must be an http(s) URL" in result.stderr


def test_compose_runs_replicas_behind_the_proxy(project: Path) -> None:
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {NAME, "proxy", "redis"}
    server = services[NAME]
    assert server["deploy"]["replicas"] == 2
    assert "ports" not in server  # reached through the proxy only
    assert server["environment"]["STORAGE_URL"] == "redis://redis:6379/0"
    assert server["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "healthcheck" in services["redis"]
    proxy = services["proxy"]
    assert proxy["ports"] == ["8080:80"]
    mount = proxy["volumes"][0].split(":")
    assert (project / mount[0]).is_file() and mount[1] == "/etc/nginx/conf.d/default.conf"
    assert set(compose["volumes"]) == {"redis"}


def kubernetes_problems(docs: list[dict[str, Any]]) -> list[str]:
    """What `kubectl apply` or the cluster would refuse, or what would leave the server unreachable."""
    problems = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        kind = doc.get("kind", "")
        if API_VERSIONS.get(kind) != doc.get("apiVersion"):
            problems.append(f"{kind or '?'}: apiVersion {doc.get('apiVersion')!r}")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc.get("metadata", {}).get("name", "")):
            problems.append(f"{kind}: metadata.name {doc.get('metadata', {}).get('name')!r}")
        by_kind.setdefault(kind, []).append(doc)
    for deployment in by_kind.get("Deployment", []):
        spec = deployment["spec"]
        labels = spec["template"]["metadata"]["labels"]
        if not spec["selector"]["matchLabels"].items() <= labels.items():
            problems.append("Deployment: selector does not match the pod labels")
        for container in spec["template"]["spec"]["containers"]:
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                get = container.get(probe, {}).get("httpGet", {})
                if get.get("path") != path or get.get("port") not in ports:
                    problems.append(f"Deployment: {probe} is not GET {path} on a container port")
            for source in container.get("envFrom", []):
                secret = source["secretRef"]["name"]
                if secret not in {s["metadata"]["name"] for s in by_kind.get("Secret", [])}:
                    problems.append(f"Deployment: envFrom names no Secret {secret!r}")
        claims = {c["metadata"]["name"] for c in by_kind.get("PersistentVolumeClaim", [])}
        for volume in spec["template"]["spec"].get("volumes", []):
            if volume.get("persistentVolumeClaim", {}).get("claimName") not in claims:
                problems.append(f"Deployment: volume {volume['name']!r} names no claim")
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in by_kind.get("Deployment", [])]
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    for name, service in services.items():
        if not any(service["spec"]["selector"].items() <= labels.items() for labels in pods):
            problems.append(f"Service {name}: selector matches no pods")
    for ingress in by_kind.get("Ingress", []):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                ports = [p["name"] for p in services.get(backend["name"], {}).get("spec", {}).get("ports", [])]
                if backend["port"].get("name") not in ports:
                    problems.append(f"Ingress: backend {backend} is no Service port")
    deployments = {d["metadata"]["name"] for d in by_kind.get("Deployment", [])}
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = hpa["spec"]["scaleTargetRef"]
        if target["kind"] != "Deployment" or target["name"] not in deployments:
            problems.append(f"HPA: scaleTargetRef {target} names no Deployment")
        if not 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]:
            problems.append("HPA: minReplicas/maxReplicas")
    return problems


def test_kubernetes_manifests_hold_together(project: Path) -> None:
    docs = list(yaml.safe_load_all((project / "deploy/kubernetes.yaml").read_text()))
    docs += list(yaml.safe_load_all((project / "deploy/kubernetes-secret.example.yaml").read_text()))
    assert sorted(d["kind"] for d in docs) == [
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Secret",
        "Service",
    ]
    assert kubernetes_problems(docs) == []
    # Kubernetes' own OpenAPI schemas (kubernetes-validate ships them): unknown fields are errors too.
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    misspelt = next(d for d in docs if d["kind"] == "Deployment")
    misspelt = {**misspelt, "spec": {**misspelt["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert {"STORAGE_KEY", "JWT_SIGNING_KEY", "STORAGE_URL"} <= set(secret["stringData"])
    # The check itself catches what it claims to.
    broken = yaml.safe_load_all((project / "deploy/kubernetes.yaml").read_text().replace("path: /readyz", "path: /"))
    assert "Deployment: readinessProbe is not GET /readyz on a container port" in kubernetes_problems(list(broken))


def test_fly_and_render_check_readiness(project: Path) -> None:
    fly = tomllib.loads((project / "fly.toml").read_text())
    assert fly["app"] == NAME and fly["http_service"]["internal_port"] == 8080
    assert fly["http_service"]["checks"][0]["path"] == "/readyz"
    assert fly["env"]["PUBLIC_URL"].startswith("https://")
    render = yaml.safe_load((project / "render.yaml").read_text())
    web, store = render["services"]
    assert web["type"] == "web" and web["runtime"] == "docker" and web["healthCheckPath"] == "/readyz"
    assert web["numInstances"] == 2
    env = {e["key"]: e for e in web["envVars"]}
    assert env["PORT"]["value"] == "8080" and env["STORAGE_KEY"]["sync"] is False
    assert env["STORAGE_URL"]["fromService"] == {
        "type": "keyvalue",
        "name": store["name"],
        "property": "connectionString",
    }
    assert store["type"] == "keyvalue" and store["ipAllowList"] == []


def test_no_target_believes_anyones_x_forwarded_for(project: Path) -> None:
    """Each target trusts only the proxy in front, which passes on the address it saw itself."""
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    proxy = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    (network,) = compose["networks"]["default"]["ipam"]["config"]
    assert compose["services"][NAME]["environment"]["FORWARDED_ALLOW_IPS"] == proxy
    # The proxy's fixed address is in the network, outside the range Docker hands to other containers.
    address = ipaddress.ip_address(proxy)
    assert address in ipaddress.ip_network(network["subnet"]) and address not in ipaddress.ip_network(
        network["ip_range"]
    )
    site = (project / "deploy/nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site and "$proxy_add_x_forwarded_for" not in site
    (deployment,) = [
        d for d in yaml.safe_load_all((project / "deploy/kubernetes.yaml").read_text()) if d["kind"] == "Deployment"
    ]
    kubernetes = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    fly = tomllib.loads((project / "fly.toml").read_text())["env"]
    render = {
        e["key"]: e.get("value")
        for e in yaml.safe_load((project / "render.yaml").read_text())["services"][0]["envVars"]
    }
    assert fly["CLIENT_IP_HEADER"] == "Fly-Client-IP"
    for trusted in (kubernetes["FORWARDED_ALLOW_IPS"], fly["FORWARDED_ALLOW_IPS"], render["FORWARDED_ALLOW_IPS"]):
        # Networks that are private: a client on the internet is never among them.
        assert all(ipaddress.ip_network(part).is_private for part in trusted.split(",")), trusted


def site_for_loopback(project: Path, upstreams: list[str], port: int) -> str:
    """The generated nginx config with only its addresses changed: replicas on loopback, not Docker DNS."""
    site = (project / "deploy/nginx.conf").read_text()
    servers = "\n    ".join(f"server {address};" for address in upstreams)
    site, found = re.subn(rf"server {NAME}:8080;", servers, site)
    assert found == 1
    site, found = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    assert found == 1
    return site


def test_nginx_accepts_the_generated_config(project: Path, tmp_path: Path) -> None:
    if not serving.nginx_available():
        require_or_skip("nginx is not installed (Debian package nginx)")
    site = tmp_path / "site.conf"
    site.write_text(site_for_loopback(project, ["127.0.0.1:9"], serving.free_port()))
    result = serving.nginx_check(site, tmp_path / "nginx")
    assert result.returncode == 0, result.stderr


@pytest.fixture
def shared_redis(project: Path) -> Iterator[dict[str, str]]:
    """STORAGE_URL and a namespace of this test's own in the machine's Redis, emptied afterwards."""
    env = service_env("redis")
    namespace = f"deploy-{secrets.token_hex(4)}"
    yield {**env, "STORAGE_NAMESPACE": namespace, "LOG_LEVEL": "INFO"}
    client = redis.Redis.from_url(env["STORAGE_URL"])
    for key in client.scan_iter(match=f"*{namespace}__*"):
        client.delete(key)
    client.close()


def sign_in(http: httpx.Client, public_url: str) -> str:
    """The whole authorization code flow through `http`; returns the access token."""
    client_id = http.post("/register", json={"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"})
    client_id.raise_for_status()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id.json()["client_id"],
        "redirect_uri": CALLBACK,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": f"{public_url}/mcp",
    }
    page = http.get("/authorize", params=query, follow_redirects=True)
    location = ""
    for fields in ({"username": "ops", "password": PASSWORD}, {"decision": "allow"}):
        assert page.status_code == 200, page.text
        action = re.search(r"action='([^']*)'", page.text)
        hidden = dict(re.findall(r"name=(txn|csrf) value='([^']*)'", page.text))
        assert action, page.text
        answer = http.post(action.group(1), data={**hidden, **fields})
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        if location.startswith(CALLBACK):
            break
        page = http.get(location)
    token = http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": httpx.URL(location).params["code"],
            "redirect_uri": CALLBACK,
            "client_id": client_id.json()["client_id"],
            "code_verifier": verifier,
            "resource": f"{public_url}/mcp",
        },
    )
    assert token.status_code == 200, token.text
    access: str = token.json()["access_token"]
    return access


def add_user(project: Path, env: dict[str, str], workdir: Path) -> None:
    environment = {**os.environ, **serving.read_env(project / ".env"), **env, "PYTHONPATH": str(project)}
    command = [sys.executable, "-m", PACKAGE, "users", "add", "ops", "--password-stdin"]
    subprocess.run(command, input=PASSWORD + "\n", env=environment, cwd=workdir, check=True, text=True, timeout=60)


def call_tools(http: httpx.Client, token: str, count: int) -> list[int]:
    """`count` stateless tools/call requests, eight at a time; returns their statuses."""
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT, "MCP-Protocol-Version": "2025-06-18"}

    def call(number: int) -> int:
        body = {
            "jsonrpc": "2.0",
            "id": number,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "hi"}},
        }
        return http.post("/mcp", json=body, headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(call, range(count)))


def served_calls(served: serving.Served) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in served.log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("mcp_method") == "tools/call"]


def test_two_replicas_behind_the_generated_nginx(project: Path, shared_redis: dict[str, str], tmp_path: Path) -> None:
    if not serving.nginx_available():
        require_or_skip("nginx is not installed (Debian package nginx)")
    port = serving.free_port()
    public_url = f"http://127.0.0.1:{port}"
    add_user(project, shared_redis, tmp_path)
    # Four registrations per address, counted in Redis: the replicas enforce one limit. (A day's fixed window,
    # so a slow run never sees its requests counted in two.)
    env = {**shared_redis, "PUBLIC_URL": public_url, "RATE_LIMIT_REGISTER": "4/86400"}
    with (
        serving.serve(project, PACKAGE, tmp_path, **env) as one,
        serving.serve(project, PACKAGE, tmp_path, **env) as two,
    ):
        site = tmp_path / "site.conf"
        site.write_text(
            site_for_loopback(project, [one.url.removeprefix("http://"), two.url.removeprefix("http://")], port)
        )
        with serving.nginx(site, tmp_path / "nginx", port), httpx.Client(base_url=public_url, timeout=15) as http:
            # The sign-in itself crosses replicas: its steps share state only through Redis.
            token = sign_in(http, public_url)
            assert call_tools(http, token, 20) == [200] * 20
            body = {"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"}
            registered = [http.post("/register", json=body).status_code for _ in range(5)]
            assert registered == [201, 201, 201, 429, 429]  # the sign-in made the first
    # Stopped, so every log line is written.
    calls = [served_calls(one), served_calls(two)]
    assert all(calls), "round robin should give each replica some of the calls"
    assert sum(map(len, calls)) == 20


def compose_server_env(project: Path) -> dict[str, str]:
    """The environment compose.yaml gives a replica, with the proxy's address where nginx runs here."""
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    env = {name: str(value) for name, value in compose["services"][NAME]["environment"].items()}
    proxy = compose["services"]["proxy"].get("networks", {}).get("default", {}).get("ipv4_address")
    if proxy:
        env["FORWARDED_ALLOW_IPS"] = env["FORWARDED_ALLOW_IPS"].replace(proxy, "127.0.0.1")
    return env


def login_form(http: httpx.Client, public_url: str) -> dict[str, str]:
    """A registered client's authorization request, up to the sign-in form; returns its hidden fields."""
    client = http.post("/register", json={"redirect_uris": [CALLBACK], "token_endpoint_auth_method": "none"})
    client.raise_for_status()
    query = {
        "response_type": "code",
        "client_id": client.json()["client_id"],
        "redirect_uri": CALLBACK,
        "code_challenge": base64.urlsafe_b64encode(hashlib.sha256(b"v").digest()).rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "resource": f"{public_url}/mcp",
    }
    page = http.get("/authorize", params=query, follow_redirects=True)
    assert page.status_code == 200, page.text
    return dict(re.findall(r"name=(txn|csrf) value='([^']*)'", page.text))


def test_a_spoofed_x_forwarded_for_does_not_escape_the_login_lockout(
    project: Path, shared_redis: dict[str, str], tmp_path: Path
) -> None:
    """Behind the generated nginx, with the replica's settings from compose.yaml, an attacker who
    claims a new address on every wrong password is still locked out after five."""
    if not serving.nginx_available():
        require_or_skip("nginx is not installed (Debian package nginx)")
    port = serving.free_port()
    public_url = f"http://127.0.0.1:{port}"
    add_user(project, shared_redis, tmp_path)
    env = {**compose_server_env(project), **shared_redis, "PUBLIC_URL": public_url}
    with serving.serve(project, PACKAGE, tmp_path, **env) as replica:
        site = tmp_path / "site.conf"
        site.write_text(site_for_loopback(project, [replica.url.removeprefix("http://")], port))
        with serving.nginx(site, tmp_path / "nginx", port), httpx.Client(base_url=public_url, timeout=15) as http:
            fields = login_form(http, public_url)
            statuses = []
            for attempt in range(1, 8):
                spoofed = {"X-Forwarded-For": f"203.0.113.{attempt}", "X-Real-IP": f"203.0.113.{attempt}"}
                wrong = {**fields, "username": "ops", "password": f"wrong-{attempt}"}
                statuses.append(http.post("/oauth/login", data=wrong, headers=spoofed).status_code)
    assert statuses == [401] * 5 + [429] * 2


def calls_on_fresh_connections(url: str, token: str, connections: int = 20) -> list[int]:
    """Two calls on each of `connections` new connections; the kernel hashes each to one worker."""
    statuses = []
    for _ in range(connections):
        with httpx.Client(base_url=url, timeout=15) as http:
            statuses += call_tools(http, token, 2)
    return statuses


def tool_calls_counted(metrics: str) -> float:
    families = text_string_to_metric_families(metrics)
    requests = next(family for family in families if family.name == "mcp_requests")
    return sum(
        sample.value
        for sample in requests.samples
        if sample.name == "mcp_requests_total" and sample.labels["method"] == "tools/call"
    )


def worker_pids(served: serving.Served) -> set[int]:
    return {line["pid"] for line in served_calls(served)}


@contextmanager
def two_workers(project: Path, env: dict[str, str], workdir: Path) -> Iterator[tuple[serving.Served, str, set[int]]]:
    """`serve --workers 2`, a signed-in token, and the two workers (pids) 40 calls reached."""
    add_user(project, env, workdir)
    with serving.serve(project, PACKAGE, workdir, "--workers", "2", **env) as served:
        with httpx.Client(base_url=served.url, timeout=15) as http:
            token = sign_in(http, served.url)
        assert calls_on_fresh_connections(served.url, token) == [200] * 40
        pids = worker_pids(served)
        assert len(pids) == 2, f"calls were served by {pids}"
        assert served.process.pid not in pids
        yield served, token, pids


def test_two_workers_serve_any_request(project: Path, shared_redis: dict[str, str], tmp_path: Path) -> None:
    with two_workers(project, shared_redis, tmp_path) as (served, _, pids):
        # Whichever worker a scrape reaches, /metrics counts the calls of both.
        scraped = set()
        for _ in range(6):
            with httpx.Client(base_url=served.url, timeout=15) as http:
                scraped.add(tool_calls_counted(http.get("/metrics").text))
        assert scraped == {40.0}
    # SIGTERM to serve stopped every worker, none left behind.
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived serve"


def test_a_worker_that_dies_is_replaced(project: Path, shared_redis: dict[str, str], tmp_path: Path) -> None:
    with two_workers(project, shared_redis, tmp_path) as (served, token, first):
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        while Path(f"/proc/{victim}").exists() and "State:\tZ" not in Path(f"/proc/{victim}/status").read_text():
            time.sleep(0.05)  # dead (a zombie, or reaped): its socket is closed
        # Until the replacement listens, the kernel sends new connections to the survivor.
        deadline = time.monotonic() + 60
        while len(worker_pids(served) - first) == 0 and time.monotonic() < deadline:
            assert calls_on_fresh_connections(served.url, token, 5) == [200] * 10
        assert served.process.poll() is None, "serve itself should keep running"
        replacement = worker_pids(served) - first
        assert len(replacement) == 1, f"no new worker served calls: {worker_pids(served)}"
    assert "starting another" in served.log.read_text()


def test_workers_on_a_port_in_use_fail_at_once(project: Path, shared_redis: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        environment = {**os.environ, **serving.read_env(project / ".env"), **shared_redis, "PYTHONPATH": str(project)}
        command = [sys.executable, "-m", PACKAGE, "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2"]
        done = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"could not listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_workers_that_cannot_start_stop_serve(project: Path, shared_redis: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / NAME
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns(".git"))
    (broken / PACKAGE / "tools" / "echo.py").write_text('raise RuntimeError("broken on purpose")\n')
    environment = {**os.environ, **serving.read_env(broken / ".env"), **shared_redis, "PYTHONPATH": str(broken)}
    port = str(serving.free_port())
    command = [sys.executable, "-m", PACKAGE, "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2"]
    done = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "broken on purpose" in done.stderr
    assert "before it could serve; stopping" in done.stderr
    assert "starting another" not in done.stderr


def test_a_store_down_at_start_is_an_outage_not_a_crash(tmp_path: Path) -> None:
    """PostgreSQL down when the server starts: it serves, /readyz says 503, and all works once the store is up."""
    postgres = sorted(Path("/").glob("usr/lib/postgresql/*/bin/postgres"))
    if not postgres:
        require_or_skip("PostgreSQL's server binaries are not installed (Debian package postgresql)")
    sys.path.insert(0, str(ROOT / "bench"))
    from soak import Store  # a PostgreSQL cluster of the test's own, on a free port, not yet started

    spec = tmp_path / "mcpgen.toml"
    spec.write_text(tomli_w.dumps({**SPEC, "storage": {"backend": "postgres"}, "deploy": {}}))
    code, output = mcpgen("new", str(tmp_path / NAME), "--spec", str(spec), "--yes")
    assert code == 0, output
    project = tmp_path / NAME
    # Straight under /tmp: PostgreSQL runs as nobody when this runs as root, and pytest's dirs are root's only.
    work = Path(tempfile.mkdtemp(prefix="mcpgen-outage-"))
    store = Store("postgres", work)
    try:
        with serving.serve(project, PACKAGE, tmp_path, STORAGE_URL=store.url, LOG_LEVEL="INFO") as served:
            ready = httpx.get(f"{served.url}/readyz", timeout=15)
            assert ready.status_code == 503, ready.text
            assert ready.json()["reason"].startswith("storage unreachable")
            assert "storage unreachable at start" in served.log.read_text()
            store.start()
            deadline = time.monotonic() + 30
            while httpx.get(f"{served.url}/readyz", timeout=15).status_code != 200:
                assert time.monotonic() < deadline, "never ready after the store came up"
                time.sleep(0.2)
            add_user(project, {"STORAGE_URL": store.url}, tmp_path)
            with httpx.Client(base_url=served.url, timeout=15) as http:
                token = sign_in(http, served.url)
                assert call_tools(http, token, 4) == [200] * 4
    finally:
        store.stop()
        shutil.rmtree(work, ignore_errors=True)


# What a user might write in the tool's own module: a call that takes a while.
SLOW_TOOL = '''"""The `echo` tool, slow on purpose: it sleeps as many seconds as `text` says."""

from __future__ import annotations

import asyncio

from key_value.aio.protocols import AsyncKeyValue


async def echo(store: AsyncKeyValue, *, text: str) -> str:
    await asyncio.sleep(float(text))
    return f"slept {text}"
'''


@pytest.fixture(scope="module")
def slow_project(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("slow") / NAME
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns(".git"))
    (copy / PACKAGE / "tools" / "echo.py").write_text(SLOW_TOOL)
    return copy


def call_echo(http: httpx.Client, token: str, seconds: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT, "MCP-Protocol-Version": "2025-06-18"}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": seconds}},
    }
    return http.post("/mcp", json=body, headers=headers)


def test_sigterm_lets_the_call_in_flight_finish(
    slow_project: Path, shared_redis: dict[str, str], tmp_path: Path
) -> None:
    add_user(slow_project, shared_redis, tmp_path)
    served = serving.start(slow_project, PACKAGE, tmp_path, **shared_redis)
    try:
        serving.wait_healthy(served)
        with httpx.Client(base_url=served.url, timeout=30) as http, ThreadPoolExecutor(1) as pool:
            token = sign_in(http, served.url)
            in_flight = pool.submit(call_echo, http, token, "2")
            time.sleep(0.7)
            served.process.send_signal(signal.SIGTERM)
            response = in_flight.result()
        assert response.status_code == 200, response.text
        assert "slept 2" in response.text and '"isError":false' in response.text.replace(" ", "")
        assert served.process.wait(timeout=30) == 0
    finally:
        serving.stop(served)


def test_a_tool_call_past_the_timeout_is_stopped(
    slow_project: Path, shared_redis: dict[str, str], tmp_path: Path
) -> None:
    add_user(slow_project, shared_redis, tmp_path)
    with (
        serving.serve(slow_project, PACKAGE, tmp_path, TOOL_TIMEOUT="0.5", **shared_redis) as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        token = sign_in(http, served.url)
        started = time.monotonic()
        response = call_echo(http, token, "5")
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["isError"] is True
    assert "echo took longer than 0.5 s and was stopped" in result["content"][0]["text"]
    assert elapsed < 4


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that keeps what it is sent."""

    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_traceparent_continues_into_exported_spans(project: Path, shared_redis: dict[str, str], tmp_path: Path) -> None:
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    try:
        with serving.serve(project, PACKAGE, tmp_path, **shared_redis, **otel) as served:
            traced = httpx.get(f"{served.url}/healthz", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
            assert traced.status_code == 200
            deadline = time.monotonic() + 15
            while not any(bytes.fromhex(trace_id) in body for body in Collector.received):
                assert time.monotonic() < deadline, f"no span of trace {trace_id} exported"
                time.sleep(0.1)
        # The span is the caller's child: its parent span id travels with it (OTLP protobuf keeps the raw bytes).
        (body,) = [body for body in Collector.received if bytes.fromhex(trace_id) in body][:1]
        assert bytes.fromhex(parent_id) in body and b"GET /healthz" in body
    finally:
        collector.shutdown()
