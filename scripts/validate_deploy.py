#!/usr/bin/env python3
"""Checks of deploy/ that need Python (run by scripts/validate-deploy.sh inside its venv).

  validate_deploy.py sync            rewrite the two generated manifests from their sources:
                                     configmap.yaml from deploy/docker/strata.conf and
                                     prometheusrule.yaml from deploy/monitoring/alerts.yaml
  validate_deploy.py manifests       kustomization, Kubernetes schemas (strict), CRD structure,
                                     generated manifests in sync, config and resources consistent
  validate_deploy.py dashboard       Grafana JSON: panels, targets, datasource variable, PromQL
  validate_deploy.py live BINARY     start BINARY with the container's config on free loopback
                                     ports: probes, every metric the dashboard and alerts use,
                                     SIGTERM and a clean exit, data still there after a restart
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import kubernetes_validate
import promql_parser
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "kubernetes"
MONITORING = ROOT / "deploy" / "monitoring"
CONF = ROOT / "deploy" / "docker" / "strata.conf"
ALERTS = MONITORING / "alerts.yaml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
# The Kubernetes version the manifests are validated against (kubernetes-validate's schemas).
KUBERNETES_VERSION = "1.30.0"


class Failure(Exception):
    """A check failed; the message says which and why."""


def check(condition, message):
    if not condition:
        raise Failure(message)


# --- generated manifests ------------------------------------------------------------------------

CONFIGMAP_HEADER = """\
# Generated from deploy/docker/strata.conf by `scripts/validate_deploy.py sync` (do not edit
# here; scripts/validate-deploy.sh fails when the two differ). Mounted at /etc/strata.
# Pods read it at start only: after a change, `kubectl rollout restart statefulset/strata`.
"""

PROMETHEUSRULE_HEADER = """\
# Generated from deploy/monitoring/alerts.yaml by `scripts/validate_deploy.py sync` (do not
# edit here; scripts/validate-deploy.sh fails when the two differ). Add the label your
# Prometheus selects rules by (kube-prometheus-stack: `release: <its release name>`).
"""


class _Literal(str):
    """A string dumped as a YAML block scalar (|)."""


def _literal_representer(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal_representer)


def _dump(doc):
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=1000, default_flow_style=False)


def _literals(value):
    """Multi-line strings (PromQL) as block scalars, so the generated file stays readable."""
    if isinstance(value, dict):
        return {k: _literals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literals(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return _Literal(value)
    return value


def configmap_text():
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "strata-config", "labels": {"app.kubernetes.io/name": "strata"}},
        "data": {"strata.conf": _Literal(CONF.read_text())},
    }
    return CONFIGMAP_HEADER + _dump(doc)


def prometheusrule_text():
    rules = yaml.safe_load(ALERTS.read_text())
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "strata", "labels": {"app.kubernetes.io/name": "strata"}},
        "spec": _literals(rules),
    }
    return PROMETHEUSRULE_HEADER + _dump(doc)


GENERATED = {"configmap.yaml": configmap_text, "prometheusrule.yaml": prometheusrule_text}


def sync():
    for name, make in GENERATED.items():
        (K8S / name).write_text(make())
        print(f"wrote deploy/kubernetes/{name}")


# --- CRD structure (a strict subset of the Prometheus Operator's v1 schemas) ---------------------

DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "namespace": {"type": "string"},
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
}
LABEL_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": STRING_MAP,
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "operator"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
RELABELINGS = {"type": "array", "items": {"type": "object"}}
SERVICEMONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": METADATA,
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": LABEL_SELECTOR,
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}},
                },
                "jobLabel": {"type": "string"},
                "targetLabels": {"type": "array", "items": {"type": "string"}},
                "podTargetLabels": {"type": "array", "items": {"type": "string"}},
                "sampleLimit": {"type": "integer", "minimum": 0},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "targetPort": {"type": ["string", "integer"]},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "params": {"type": "object"},
                            "interval": DURATION,
                            "scrapeTimeout": DURATION,
                            "honorLabels": {"type": "boolean"},
                            "honorTimestamps": {"type": "boolean"},
                            "relabelings": RELABELINGS,
                            "metricRelabelings": RELABELINGS,
                        },
                    },
                },
            },
        },
    },
}
RULE = {
    "type": "object",
    "required": ["expr"],
    "additionalProperties": False,
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
    "properties": {
        "alert": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "record": {"type": "string", "pattern": r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"},
        "expr": {"type": ["string", "integer"]},
        "for": DURATION,
        "keep_firing_for": DURATION,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
}
RULE_GROUPS = {
    "type": "object",
    "required": ["groups"],
    "additionalProperties": False,
    "properties": {
        "groups": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "rules"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "interval": DURATION,
                    "limit": {"type": "integer", "minimum": 0},
                    "rules": {"type": "array", "minItems": 1, "items": RULE},
                },
            },
        }
    },
}
PROMETHEUSRULE = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": METADATA,
        "spec": RULE_GROUPS,
    },
}
CRD_SCHEMAS = {"ServiceMonitor": SERVICEMONITOR, "PrometheusRule": PROMETHEUSRULE}


def validate_rule_groups(spec, where):
    """Structure, unique group names, and PromQL that parses."""
    try:
        jsonschema.validate(spec, RULE_GROUPS)
    except jsonschema.ValidationError as e:
        raise Failure(f"{where}: {e.json_path}: {e.message}")
    names = [g["name"] for g in spec["groups"]]
    check(len(names) == len(set(names)), f"{where}: duplicate rule group names {names}")
    for group in spec["groups"]:
        for rule in group["rules"]:
            parse_promql(str(rule["expr"]), f"{where}: {rule.get('alert') or rule.get('record')}")
            if "alert" in rule:
                check("severity" in rule.get("labels", {}), f"{where}: {rule['alert']} has no severity label")
                check({"summary", "description"} <= set(rule.get("annotations", {})),
                      f"{where}: {rule['alert']} needs summary and description annotations")
                check("for" in rule, f"{where}: {rule['alert']} has no `for:` duration")


def parse_promql(expr, where):
    try:
        promql_parser.parse(expr)
    except ValueError as e:
        raise Failure(f"{where}: PromQL does not parse: {e}\n{expr}")


# --- manifests ----------------------------------------------------------------------------------

def parse_size(text):
    """A Redis memory size (`256mb`, `1gb`, `1k`, `4096`) in bytes."""
    m = re.fullmatch(r"(\d+)(k|kb|m|mb|g|gb)?", text.strip().lower())
    check(m is not None, f"not a size: {text}")
    unit = {None: 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}[m.group(2)]
    return int(m.group(1)) * unit


def parse_quantity(text):
    """A Kubernetes memory quantity (`1536Mi`, `2Gi`, `1G`, `1000000`) in bytes."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(text))
    check(m is not None, f"unsupported quantity: {text}")
    unit = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    return int(m.group(1)) * unit[m.group(2)]


def conf_directives(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            out[name.lower()] = value.strip()
    return out


def load_documents(path):
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except yaml.YAMLError as e:
        raise Failure(f"{path.name}: not YAML: {e}")
    check(docs, f"{path.name}: no document")
    return docs


def manifests():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    resources = kustomization.get("resources", [])
    check(resources, "kustomization.yaml lists no resources")
    for r in resources:
        check((K8S / r).is_file(), f"kustomization.yaml lists {r}, which does not exist")
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    check(on_disk <= set(resources), f"not in kustomization.yaml: {sorted(on_disk - set(resources))}")
    print(f"kustomization: {len(resources)} resources, all present")

    by_kind = {}
    for r in resources:
        for doc in load_documents(K8S / r):
            kind = doc.get("kind")
            if kind in CRD_SCHEMAS:
                try:
                    jsonschema.validate(doc, CRD_SCHEMAS[kind])
                except jsonschema.ValidationError as e:
                    raise Failure(f"{r}: {kind} {e.json_path}: {e.message}")
                if kind == "PrometheusRule":
                    validate_rule_groups(doc["spec"], r)
                how = "structure (Prometheus Operator v1 subset)"
            else:
                try:
                    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
                except kubernetes_validate.ValidationError as e:
                    path = ".".join(str(p) for p in e.path)
                    raise Failure(f"{r}: {kind} {path}: {e.message}")
                except kubernetes_validate.SchemaNotFoundError as e:
                    raise Failure(f"{r}: {e.message}")
                how = f"Kubernetes {KUBERNETES_VERSION} schema, strict"
            by_kind.setdefault(kind, []).append(doc)
            print(f"  {r}: {kind}/{doc['metadata']['name']}: {how}")

    for name, make in GENERATED.items():
        check((K8S / name).read_text() == make(),
              f"deploy/kubernetes/{name} differs from its source: run `scripts/validate_deploy.py sync`")
    (cm,) = by_kind["ConfigMap"]
    check(cm["data"]["strata.conf"] == CONF.read_text(), "configmap.yaml's strata.conf differs from deploy/docker/strata.conf")
    (rule,) = by_kind["PrometheusRule"]
    check(rule["spec"] == yaml.safe_load(ALERTS.read_text()), "prometheusrule.yaml's groups differ from alerts.yaml")
    print("configmap.yaml carries deploy/docker/strata.conf; prometheusrule.yaml carries alerts.yaml")

    # The StatefulSet, its Services and the container's config must agree with each other.
    (sts,) = by_kind["StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    conf = conf_directives(CONF.read_text())
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    check(ports.get("redis") == int(conf.get("port", "6379")), "containerPort redis differs from strata.conf's port")
    check(ports.get("metrics") == int(conf.get("metrics-port", "9121")),
          "containerPort metrics differs from strata.conf's metrics-port")
    check(conf.get("bind") == "0.0.0.0" and conf.get("metrics-bind") == "0.0.0.0",
          "strata.conf must bind 0.0.0.0 (bind and metrics-bind) to be reachable in a pod")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    check(mounts.get("data") == conf.get("dir"), "the data volume is not mounted at strata.conf's dir")
    check(mounts.get("config") == "/etc/strata", "the ConfigMap must be mounted at /etc/strata")
    claims = [c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]]
    check("data" in claims, "no volumeClaimTemplate named data")
    for probe, path in [("startupProbe", "/readyz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]:
        got = container.get(probe, {}).get("httpGet", {})
        check(got.get("path") == path and got.get("port") == "metrics", f"{probe} must GET {path} on port metrics")
    security = container["securityContext"]
    check(security.get("readOnlyRootFilesystem") is True and security.get("allowPrivilegeEscalation") is False
          and security.get("capabilities", {}).get("drop") == ["ALL"], "container securityContext is not locked down")
    check(pod["securityContext"].get("runAsNonRoot") is True
          and pod["securityContext"].get("seccompProfile", {}).get("type") == "RuntimeDefault",
          "pod securityContext needs runAsNonRoot and seccomp RuntimeDefault")
    check(pod.get("terminationGracePeriodSeconds", 30) >= 60, "terminationGracePeriodSeconds under 60")
    budgets = sum(parse_size(conf[d]) for d in ("hot-cache-size", "rocksdb-block-cache-size", "rocksdb-memtable-budget"))
    limit = parse_quantity(container["resources"]["limits"]["memory"])
    request = parse_quantity(container["resources"]["requests"]["memory"])
    check(limit >= 1.4 * budgets, f"memory limit {limit} is under 1.4 x the budgets ({budgets}): see docs/deployment.md")
    check(request == limit, "memory request and limit differ (a database should not be overcommitted)")
    print(f"statefulset: ports, mounts, probes, security; memory limit {limit / 2**20:.0f} MiB = "
          f"{limit / budgets:.2f} x {budgets / 2**20:.0f} MiB of budgets")

    services = {s["metadata"]["name"]: s for s in by_kind["Service"]}
    check(sts["spec"]["serviceName"] in services, "the StatefulSet's serviceName is not a Service here")
    check(services[sts["spec"]["serviceName"]]["spec"].get("clusterIP") == "None", "the governing Service is not headless")
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    for s in services.values():
        sel = s["spec"]["selector"]
        check(all(pod_labels.get(k) == v for k, v in sel.items()), f"Service {s['metadata']['name']} selects no pod")
        for p in s["spec"]["ports"]:
            check(p["targetPort"] in ports, f"Service {s['metadata']['name']} targets unknown port {p['targetPort']}")
    (monitor,) = by_kind["ServiceMonitor"]
    scraped = [s for s in services.values()
               if all(s["metadata"].get("labels", {}).get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
               and any(p["name"] == e["port"] for p in s["spec"]["ports"] for e in monitor["spec"]["endpoints"])]
    check(len(scraped) == 1, f"the ServiceMonitor must scrape exactly one Service, not {[s['metadata']['name'] for s in scraped]}")
    check(scraped[0]["metadata"]["name"] == "strata", "the scraped Service must be named strata (job=\"strata\" in alerts)")
    print("services: selectors, ports; the ServiceMonitor scrapes the `strata` Service once")

    validate_rule_groups(yaml.safe_load(ALERTS.read_text()), "alerts.yaml")
    print("alerts.yaml: structure, severity, annotations, for, PromQL")


# --- dashboard ----------------------------------------------------------------------------------

GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$instance": ".+", "${instance}": ".+"}


def grafana_expr(expr):
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    check("$" not in expr, f"unknown Grafana variable in {expr}")
    return expr


def dashboard():
    try:
        dash = json.loads(DASHBOARD.read_text())
    except json.JSONDecodeError as e:
        raise Failure(f"grafana-dashboard.json: not JSON: {e}")
    check(dash.get("schemaVersion", 0) >= 36, "schemaVersion under 36 (Grafana 9/10)")
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    check(variables.get("datasource", {}).get("type") == "datasource"
          and variables["datasource"].get("query") == "prometheus", "no Prometheus datasource variable")
    panels = dash["panels"]
    ids = [p["id"] for p in panels]
    check(len(ids) == len(set(ids)), "duplicate panel ids")
    count = 0
    for p in panels:
        if p["type"] == "row":
            continue
        title = p.get("title", "?")
        check(p.get("targets"), f"panel {title!r} has no targets")
        check(p.get("datasource", {}).get("uid") == "${datasource}", f"panel {title!r} does not use ${{datasource}}")
        for t in p["targets"]:
            check(t.get("expr"), f"panel {title!r} has an empty target")
            check(t.get("datasource", {}).get("uid") == "${datasource}", f"a target of {title!r} does not use ${{datasource}}")
            parse_promql(grafana_expr(t["expr"]), f"panel {title!r}")
            count += 1
        g = p["gridPos"]
        check(g["x"] + g["w"] <= 24, f"panel {title!r} is wider than the grid")
    for v in variables.values():
        if v["type"] == "query":
            query = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            check(re.fullmatch(r"label_values\((\w+), *\w+\)", query), f"variable {v['name']}: unexpected query {query}")
    print(f"dashboard: {len(panels)} panels, {count} PromQL targets parse, datasource variable")


# --- live check ---------------------------------------------------------------------------------

def monitored_names():
    """`strata_...` words of deploy/monitoring (as tests/metrics.rs scans them)."""
    names = set()
    for f in MONITORING.iterdir():
        names |= set(re.findall(r"(?<![A-Za-z0-9_])strata_[A-Za-z0-9_]*", f.read_text()))
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def wait_for(port, path, status, proc, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check(proc.poll() is None, f"the server exited with {proc.returncode} before {path} answered {status}")
        if http_get(port, path)[0] == status:
            return
        time.sleep(0.1)
    raise Failure(f"{path} did not answer {status} within {seconds} s")


def _complete(data):
    """Whether `data` holds one whole simple, error, integer or bulk reply."""
    head, sep, rest = data.partition(b"\r\n")
    if not sep:
        return False
    if head.startswith(b"$") and head != b"$-1":
        return len(rest) >= int(head[1:]) + 2
    return True


def resp(port, *commands):
    """Sends commands (lists of str) over one connection; returns the raw replies' first lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        out = []
        for cmd in commands:
            s.sendall(f"*{len(cmd)}\r\n".encode() + b"".join(f"${len(a)}\r\n{a}\r\n".encode() for a in cmd))
            data = b""
            while not _complete(data):
                chunk = s.recv(65536)
                check(chunk, "the server closed the connection")
                data += chunk
            out.append(data.decode())
        return out


def start(binary, data_dir, log):
    port, mport = free_port(), free_port()
    args = [binary, str(CONF), "--dir", str(data_dir), "--port", str(port), "--bind", "127.0.0.1",
            "--metrics-port", str(mport), "--metrics-bind", "127.0.0.1"]
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT), port, mport


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("the server did not exit within 60 s of SIGTERM")
    check(code == 0, f"the server exited with {code} after SIGTERM (0 expected)")


def live(binary):
    with tempfile.TemporaryDirectory(prefix="strata-deploy-") as tmp:
        log_path = Path(tmp) / "server.log"
        data_dir = Path(tmp) / "data"
        with open(log_path, "w") as log:
            proc, port, mport = start(binary, data_dir, log)
            try:
                wait_for(mport, "/healthz", 200, proc)
                wait_for(mport, "/readyz", 200, proc)
                print("live: /healthz 200, /readyz 200")
                replies = resp(port, ["SET", "deploy:key", "v1", "EX", "3600"], ["GET", "deploy:key"], ["NOSUCHCOMMAND"])
                check(replies[0] == "+OK\r\n" and replies[1] == "$2\r\nv1\r\n" and replies[2].startswith("-ERR"),
                      f"unexpected replies {replies}")
                status, page = http_get(mport, "/metrics")
                check(status == 200, f"/metrics answered {status}")
                served = set(re.findall(r"^# TYPE (\S+) ", page, re.M))
                wanted = monitored_names()
                missing = sorted(n for n in wanted if n not in served and not any(
                    n.endswith(s) and n[: -len(s)] in served for s in ("_bucket", "_sum", "_count")))
                check(not missing, f"/metrics does not serve {missing}")
                check(len(wanted) > 20, f"only {len(wanted)} metric names found in deploy/monitoring")
                print(f"live: /metrics serves all {len(wanted)} metric names of deploy/monitoring")
                stop(proc)
                print("live: SIGTERM -> exit 0")
                proc, port, mport = start(binary, data_dir, log)
                wait_for(mport, "/readyz", 200, proc)
                check(resp(port, ["GET", "deploy:key"]) == ["$2\r\nv1\r\n"], "the key is gone after a restart")
                stop(proc)
                print("live: restarted on the same data directory, the key is there; SIGTERM -> exit 0")
            except Failure:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                sys.stderr.write(log_path.read_text()[-4000:])
                raise


def main(argv):
    try:
        if argv[1:] == ["sync"]:
            sync()
        elif argv[1:] == ["manifests"]:
            manifests()
        elif argv[1:] == ["dashboard"]:
            dashboard()
        elif len(argv) == 3 and argv[1] == "live":
            live(argv[2])
        else:
            sys.stderr.write(__doc__)
            return 2
    except Failure as e:
        sys.stderr.write(f"FAILED: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
