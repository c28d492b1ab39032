#!/usr/bin/python3
"""scripts/lib/deploy_policy.py: the rules every rendered ccip overlay and
every systemd unit must keep (scripts/check-deploy runs it; docs in
deploy/README.md).

    deploy_policy.py --secrets base/secrets.example.yaml \
        [--systemd deploy/systemd] NAME=RENDERED.yaml [NAME=RENDERED.yaml ...]

RENDERED.yaml is the output of `kubectl kustomize` for overlay NAME. Prints
one line per broken rule, naming the overlay, the object, the container and
what to add; exits 1 when there is one, 0 (with a summary line) otherwise.

The rules, and why:
  - every container of a Deployment or Job: resource requests and limits
    (cpu and memory: a replica without limits can starve its node), a
    non-root user (runAsNonRoot), a read-only root filesystem, no privilege
    escalation and every capability dropped;
  - every container of a Deployment: a readiness and a liveness probe (the
    services' on the skeleton's /readyz and /healthz), so that a rollout
    waits for a replica that works and a hung one is restarted;
  - every Deployment: RollingUpdate with maxUnavailable 0 (upgrades one
    replica at a time, never fewer than asked), except the bus, which is
    Recreate with one replica until issue 21 part 1 makes a second bus
    possible; Prometheus annotations (prometheus.io/scrape, and the port and
    path when it is "true", the port one the pod declares); a
    PodDisruptionBudget and NetworkPolicies selecting its pods, which
    isolate them both ways and allow something;
  - no Secret is rendered (keys are made in the cluster, never kept here),
    and every Secret a pod names is listed in secrets.example.yaml (or is
    made by CloudNativePG), so that the list an installer follows is whole;
  - every CCIP_* variable a container or the ConfigMap sets is one a
    program reads (--known-env, from the sources): a misspelt one would be
    ignored and the program would run on its default;
  - every systemd service unit runs as a dedicated user with the hardening
    of deploy/systemd/README.md.
"""
import argparse
import os
import sys

import yaml

WORKLOADS = ("Deployment", "Job", "StatefulSet", "DaemonSet")
# Secrets made by an operator, not by hand (postgres.yaml: enableSuperuserAccess).
MADE_BY_OPERATOR = {"ccip-db-superuser"}
# The one Deployment that may be Recreate: a second bus needs issue 21 part 1.
SINGLE_INSTANCE = {"ccip-bus"}
# What every [Service] section of deploy/systemd must say (key: accepted values).
SYSTEMD_HARDENING = {
    "ProtectSystem": {"strict"},
    "NoNewPrivileges": {"yes", "true"},
    "PrivateTmp": {"yes", "true"},
    "ProtectHome": {"yes", "true", "read-only"},
}

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def selects(selector, labels):
    """Whether a label selector selects labels. Only matchLabels is
    evaluated; a selector with matchExpressions is reported by the caller."""
    if selector is None:
        return False
    want = selector.get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in want.items())


def pod_spec(obj):
    if obj["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return obj.get("spec", {}).get("template", {})
    return {}


def check_container(where, c, pod_sc, is_deployment, component):
    sc = c.get("securityContext") or {}
    res = c.get("resources") or {}
    for kind in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if not (res.get(kind) or {}).get(r):
                problem(where, f"no resources.{kind}.{r} (set it from the measured use; "
                        "deploy/README.md)")
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    if non_root is not True:
        problem(where, "runAsNonRoot is not true (set securityContext.runAsNonRoot: true "
                "and runAsUser: 10001, the image's user)")
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    if user == 0:
        problem(where, "runAsUser is 0 (root): use 10001, the image's user")
    if sc.get("readOnlyRootFilesystem") is not True:
        problem(where, "readOnlyRootFilesystem is not true (set it in the container's "
                "securityContext; mount an emptyDir where it must write)")
    if sc.get("allowPrivilegeEscalation") is not False:
        problem(where, "allowPrivilegeEscalation is not false (set it in the container's "
                "securityContext)")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problem(where, "capabilities are not dropped (securityContext.capabilities.drop: [ALL])")
    if not is_deployment:
        return
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        p = c.get(probe)
        if not p:
            problem(where, f"no {probe} (a service's is an httpGet of {path} on its "
                    "metrics port; the bus's a tcpSocket)")
            continue
        if component == "service":
            got = (p.get("httpGet") or {}).get("path")
            if got != path:
                problem(where, f"{probe} is not an httpGet of {path} (the skeleton serves it "
                        f"on metrics.listen), got {got or 'no httpGet'}")


def secrets_named(spec):
    """Every Secret name a pod spec refers to."""
    names = set()
    for v in spec.get("volumes") or []:
        if v.get("secret"):
            names.add(v["secret"].get("secretName"))
        for src in (v.get("projected") or {}).get("sources") or []:
            if src.get("secret"):
                names.add(src["secret"].get("name"))
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for e in c.get("env") or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                names.add(ref.get("name"))
        for e in c.get("envFrom") or []:
            if e.get("secretRef"):
                names.add(e["secretRef"].get("name"))
    return names


def check_env(here, names, known):
    if known is None:
        return
    for n in sorted(names):
        if n.startswith("CCIP_") and n not in known:
            problem(here, f"sets {n}, which no program reads (misspelt? the settings and their "
                    "variables: README.md, Configuration)")


def check_overlay(name, docs, listed_secrets, known_env):
    pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    nps = [d for d in docs if d["kind"] == "NetworkPolicy"]
    for d in pdbs:
        if (d["spec"].get("selector") or {}).get("matchExpressions"):
            problem(f"{name}: PodDisruptionBudget {d['metadata']['name']}",
                    "uses matchExpressions, which this check does not evaluate: use matchLabels")
    for d in nps:
        if (d["spec"].get("podSelector") or {}).get("matchExpressions"):
            problem(f"{name}: NetworkPolicy {d['metadata']['name']}",
                    "uses matchExpressions, which this check does not evaluate: use matchLabels")
    pod_labels = [(pod_spec(d).get("metadata") or {}).get("labels") or {}
                  for d in docs if d["kind"] in WORKLOADS]
    blanket = {p["metadata"]["name"] for p in nps
               if all(selects(p["spec"].get("podSelector"), lb) for lb in pod_labels)}
    # The port the services serve /healthz, /readyz and /metrics on (the
    # ConfigMap's CCIP_METRICS_LISTEN): their probes and scrape annotation
    # must name it, or every probe fails and no rollout ever finishes.
    listen = next((d.get("data", {}).get("CCIP_METRICS_LISTEN") for d in docs
                   if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "ccip-env"), None)
    metrics_port = listen.rsplit(":", 1)[-1] if listen else None
    workloads = 0
    for d in docs:
        kind, oname = d["kind"], d["metadata"]["name"]
        here = f"{name}: {kind} {oname}"
        if kind == "Secret":
            problem(here, "a Secret is rendered: keys and passwords are made in the cluster, "
                    "never kept in deploy/ (secrets.example.yaml is outside kustomization.yaml)")
            continue
        if kind == "ConfigMap":
            check_env(here, (d.get("data") or {}).keys(), known_env)
        if kind not in WORKLOADS:
            continue
        workloads += 1
        tmpl = pod_spec(d)
        labels = (tmpl.get("metadata") or {}).get("labels") or {}
        annotations = (tmpl.get("metadata") or {}).get("annotations") or {}
        spec = tmpl.get("spec") or {}
        pod_sc = spec.get("securityContext") or {}
        component = labels.get("app.kubernetes.io/component")
        is_deployment = kind == "Deployment"
        containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
        if not containers:
            problem(here, "has no container")
        for c in containers:
            check_container(f"{here}, container {c.get('name')}", c, pod_sc, is_deployment,
                            component)
            check_env(f"{here}, container {c.get('name')}",
                      {e.get("name", "") for e in c.get("env") or []}, known_env)
        for s in sorted(secrets_named(spec) - listed_secrets - MADE_BY_OPERATOR):
            problem(here, f"names Secret {s}, which base/secrets.example.yaml does not list "
                    "(add its shape there, and how to make it to deploy/kubernetes/README.md)")
        if not is_deployment:
            continue
        if component == "service":
            ports = {p.get("name"): str(p.get("containerPort"))
                     for c in containers for p in c.get("ports") or []}
            if metrics_port is None:
                problem(here, "no CCIP_METRICS_LISTEN in ConfigMap ccip-env: the service would "
                        "serve no /healthz or /readyz for its probes")
            elif ports.get("metrics") != metrics_port:
                problem(here, f"its port `metrics` is {ports.get('metrics')}, but "
                        f"CCIP_METRICS_LISTEN (ccip-env) is {listen}: the probes would fail")
        strategy = d["spec"].get("strategy") or {}
        replicas = d["spec"].get("replicas", 1)
        if strategy.get("type") == "Recreate":
            if oname not in SINGLE_INSTANCE or replicas != 1:
                problem(here, "strategy Recreate: only the single bus may be recreated; use "
                        "RollingUpdate with maxUnavailable: 0")
        elif strategy.get("type") != "RollingUpdate" or \
                (strategy.get("rollingUpdate") or {}).get("maxUnavailable") not in (0, "0", "0%"):
            problem(here, "strategy is not RollingUpdate with rollingUpdate.maxUnavailable: 0 "
                    "(a rollout must never run fewer replicas than asked)")
        scrape = annotations.get("prometheus.io/scrape")
        if scrape not in ("true", "false"):
            problem(here, 'no prometheus.io/scrape annotation on the pod template ("true", '
                    'with prometheus.io/port and prometheus.io/path; "false" says why not)')
        elif scrape == "true":
            ports = {str(p.get("containerPort")) for c in containers for p in c.get("ports") or []}
            if annotations.get("prometheus.io/port") not in ports:
                problem(here, f"prometheus.io/port {annotations.get('prometheus.io/port')} is "
                        f"not a port its containers declare ({', '.join(sorted(ports))})")
            if not annotations.get("prometheus.io/path"):
                problem(here, "no prometheus.io/path annotation (/metrics)")
        if not any(selects(p["spec"].get("selector"), labels) for p in pdbs):
            problem(here, "no PodDisruptionBudget selects its pods (add one with "
                    "maxUnavailable: 1 next to the Deployment)")
        mine = [p for p in nps if selects(p["spec"].get("podSelector"), labels)]
        types = {t for p in mine for t in p["spec"].get("policyTypes") or ["Ingress"]}
        # Its own: one that does not select every workload (the default
        # deny and the DNS policy select them all, and say nothing about
        # what this one may reach).
        own = [p for p in mine if p["metadata"]["name"] not in blanket]
        if not own:
            problem(here, "no NetworkPolicy of its own selects its pods (base/networkpolicy.yaml:"
                    " give its pods the labels of the policy for its kind, e.g. "
                    "app.kubernetes.io/component: service, or write one)")
        for t in ("Ingress", "Egress"):
            if t not in types:
                problem(here, f"no NetworkPolicy isolates its {t.lower()} (policyTypes {t}): "
                        "add it to one that selects its pods")
    return workloads


def check_systemd(d):
    units = sorted(f for f in os.listdir(d) if f.endswith(".service"))
    if not units:
        problem(d, "no .service unit")
    for u in units:
        section, keys = None, {}
        with open(os.path.join(d, u), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("["):
                    section = line
                elif section == "[Service]" and "=" in line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    keys.setdefault(k.strip(), []).append(v.strip())
        where = f"systemd: {u}"
        user = (keys.get("User") or keys.get("DynamicUser") or [""])[-1]
        if not user or user == "root":
            problem(where, "no dedicated User= in [Service] (User=ccip; README.md makes it)")
        for k, ok in SYSTEMD_HARDENING.items():
            got = (keys.get(k) or [""])[-1]
            if got not in ok:
                problem(where, f"{k}={got or '(unset)'} in [Service]: set {k}={sorted(ok)[-1]}")
    return len(units)


def main():
    ap = argparse.ArgumentParser(description="check rendered ccip manifests and units")
    ap.add_argument("--secrets", required=True, help="base/secrets.example.yaml")
    ap.add_argument("--systemd", help="the directory of the systemd units")
    ap.add_argument("--known-env", help="a file of the CCIP_* variables the programs read, "
                    "one a line")
    ap.add_argument("overlays", nargs="+", metavar="NAME=RENDERED.yaml")
    a = ap.parse_args()
    with open(a.secrets, encoding="utf-8") as f:
        listed = {d["metadata"]["name"] for d in yaml.safe_load_all(f)
                  if d and d.get("kind") == "Secret"}
    known_env = None
    if a.known_env:
        with open(a.known_env, encoding="utf-8") as f:
            known_env = {line.strip() for line in f if line.strip()}
    objects = workloads = 0
    for spec in a.overlays:
        name, _, path = spec.partition("=")
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        if not docs:
            problem(name, f"{path} holds no object (did kubectl kustomize fail?)")
        objects += len(docs)
        workloads += check_overlay(name, docs, listed, known_env)
    units = check_systemd(a.systemd) if a.systemd else 0
    for p in problems:
        print(f"check-deploy: {p}", file=sys.stderr)
    if problems:
        print(f"check-deploy: {len(problems)} rule(s) broken", file=sys.stderr)
        return 1
    print(f"policy: {len(a.overlays)} overlays, {objects} objects, {workloads} workloads, "
          f"{units} systemd units: every rule holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
