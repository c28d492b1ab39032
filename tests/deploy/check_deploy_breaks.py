#!/usr/bin/python3
"""tests/deploy/check_deploy_breaks.py: scripts/check-deploy fails when a
rule is broken, and names the problem (issue 21: "fails on a Deployment
without probes, limits or non-root, checked by breaking one on purpose").

For each break below: a fresh copy of deploy/, one edit made as a person
might make it (a block deleted, a value changed; the file stays valid YAML
and yamllint-clean, so that it is the rule that fails, not the lint), then
check-deploy on the copy must exit non-zero and print the expected words.
The untouched copy must pass first, or every break would "fail" for nothing.

    check_deploy_breaks.py ROOT      (ctest: check_deploy_breaks)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.path.join(ROOT, "scripts", "check-deploy")


def drop_block(text, start):
    """Removes the line that is exactly `start` (after its indentation) and
    every more-indented line after it."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == start:
            ind = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or
                                      len(lines[j]) - len(lines[j].lstrip()) > ind):
                j += 1
            return "\n".join(lines[:i] + lines[j:])
    raise AssertionError(f"no line {start!r} to remove")


def replace(text, old, new):
    assert old in text, f"no {old!r} to replace"
    return text.replace(old, new, 1)


K = "kubernetes/base/"
# (what is broken, file under deploy/, edit, words check-deploy must print)
BREAKS = [
    ("a Deployment without a readiness probe", K + "intake.yaml",
     lambda t: drop_block(t, "readinessProbe:"),
     "Deployment ccip-intake, container intake: no readinessProbe"),
    ("a Deployment without a liveness probe", K + "bus.yaml",
     lambda t: drop_block(t, "livenessProbe:"),
     "Deployment ccip-bus, container bus: no livenessProbe"),
    ("a readiness probe on the wrong path", K + "casefile.yaml",
     lambda t: replace(t, "path: /readyz", "path: /healthz"),
     "readinessProbe is not an httpGet of /readyz"),
    ("a Deployment without limits", K + "funding.yaml",
     lambda t: drop_block(t, "limits: {cpu: \"1\", memory: 512Mi}"),
     "Deployment ccip-funding, container funding: no resources.limits.cpu"),
    ("a Deployment without runAsNonRoot", K + "gateway.yaml",
     lambda t: drop_block(t, "runAsNonRoot: true"),
     "Deployment ccip-gateway, container gateway: runAsNonRoot is not true"),
    ("a writable root filesystem", K + "stats.yaml",
     lambda t: replace(t, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),
     "Deployment ccip-stats, container stats: readOnlyRootFilesystem is not true"),
    ("capabilities kept", K + "evaluation.yaml",
     lambda t: replace(t, "capabilities: {drop: [ALL]}", "capabilities: {drop: [NET_RAW]}"),
     "Deployment ccip-evaluation, container evaluation: capabilities are not dropped"),
    ("a Job as root", K + "bootstrap-job.yaml",
     lambda t: drop_block(t, "runAsNonRoot: true"),
     "Job ccip-db-bootstrap, container bootstrap: runAsNonRoot is not true"),
    ("a service without a PodDisruptionBudget", K + "ip.yaml",
     lambda t: t[:t.index("---\n# A drain")],
     "Deployment ccip-ip: no PodDisruptionBudget selects its pods"),
    ("a service no NetworkPolicy names", K + "followup.yaml",
     lambda t: t.replace("app.kubernetes.io/component: service", "app.kubernetes.io/component: x"),
     "Deployment ccip-followup: no NetworkPolicy of its own selects its pods"),
    ("a rollout that may take a replica away", K + "notify.yaml",
     lambda t: replace(t, "maxUnavailable: 0, maxSurge: 1", "maxUnavailable: 1, maxSurge: 1"),
     "Deployment ccip-notify: strategy is not RollingUpdate with rollingUpdate.maxUnavailable: 0"),
    ("a second Deployment recreated", K + "intake.yaml",
     lambda t: drop_block(t, "rollingUpdate: {maxUnavailable: 0, maxSurge: 1}").replace(
         "type: RollingUpdate", "type: Recreate"),
     "Deployment ccip-intake: strategy Recreate"),
    ("no Prometheus annotations", K + "notify.yaml",
     lambda t: drop_block(t, "annotations:"),
     "Deployment ccip-notify: no prometheus.io/scrape annotation"),
    ("a Secret kept in the tree", K + "kustomization.yaml",
     lambda t: t + "  - secrets.example.yaml\n",
     "Secret ccip-bus-keys: a Secret is rendered"),
    ("a Secret the template does not list", K + "notify.yaml",
     lambda t: t.replace("name: ccip-notify,", "name: ccip-notify-relay,"),
     "names Secret ccip-notify-relay, which base/secrets.example.yaml does not list"),
    ("an overlay that does not render", "kubernetes/overlays/dev/kustomization.yaml",
     lambda t: replace(t, "- deployments.yaml", "- deployment.yaml"),
     "overlay dev does not render"),
    ("a misspelt setting", K + "config.yaml",
     lambda t: replace(t, "CCIP_METRICS_LISTEN:", "CCIP_METRIC_LISTEN:"),
     "ConfigMap ccip-env: sets CCIP_METRIC_LISTEN, which no program reads"),
    ("a misspelt setting of one service", K + "ip.yaml",
     lambda t: replace(t, "CCIP_IP_SIGNING_KEY_FILE", "CCIP_IP_SIGNING_KEY"),
     "Deployment ccip-ip, container ip: sets CCIP_IP_SIGNING_KEY, which no program reads"),
    ("probes on a port nothing serves", K + "config.yaml",
     lambda t: replace(t, "CCIP_METRICS_LISTEN: 0.0.0.0:9101", "CCIP_METRICS_LISTEN: 0.0.0.0:9102"),
     "Deployment ccip-intake: its port `metrics` is 9101, but CCIP_METRICS_LISTEN"),
    ("a lint error", K + "config.yaml",
     lambda t: t + "  CCIP_LOG_LEVEL: debug\n",
     "yamllint"),
    ("a systemd unit without ProtectSystem=strict", "systemd/ccip@.service",
     lambda t: replace(t, "ProtectSystem=strict", "ProtectSystem=full"),
     "systemd: ccip@.service: ProtectSystem=full in [Service]: set ProtectSystem=strict"),
    ("a systemd unit as root", "systemd/ccip-bus.service",
     lambda t: re.sub(r"(?m)^User=ccip\n", "", t),
     "systemd: ccip-bus.service: no dedicated User="),
]


def run(deploy):
    p = subprocess.run([CHECK, deploy], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    return p.returncode, p.stdout


def main():
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ccip-check-deploy-") as tmp:
        clean = os.path.join(tmp, "clean")
        shutil.copytree(os.path.join(ROOT, "deploy"), clean)
        rc, out = run(clean)
        if rc != 0:
            print(f"the untouched copy of deploy/ fails check-deploy (rc {rc}):\n{out}")
            return 1
        print("ok: the untouched copy passes")
        for n, (what, rel, edit, words) in enumerate(BREAKS):
            copy = os.path.join(tmp, f"break{n}")
            shutil.copytree(clean, copy)
            path = os.path.join(copy, rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            with open(path, "w", encoding="utf-8") as f:
                f.write(edit(text))
            rc, out = run(copy)
            if rc == 0:
                print(f"FAIL: {what} ({rel}): check-deploy passed")
                failed += 1
            elif words not in out:
                print(f"FAIL: {what} ({rel}): check-deploy failed without saying {words!r}:\n"
                      f"{out}")
                failed += 1
            else:
                print(f"ok: {what}: {words}")
            shutil.rmtree(copy)
    print(f"check_deploy_breaks: {len(BREAKS) - failed} of {len(BREAKS)} breaks caught")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
