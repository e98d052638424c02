"""deploy/kubernetes/'s pods as processes, without a cluster: the migration Job, the web and the worker started
together (as `kubectl apply -k` starts them) on an empty PostgreSQL schema, each with its container's own command
and environment; their probes pass, each pod's `/metrics` (at its Prometheus annotations) shows its own figures
and none of the other pod's, and their memory stays within the manifests' limits."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.deploy.test_kubernetes import K8S
from tests.helpers import signing
from tests.helpers.as_deployed import fake_root
from tests.helpers.delivery import wait_until
from tests.helpers.k8s_pod import Pod, mebibytes, only_container
from tests.helpers.kustomize import Resource, find, render
from tests.helpers.postgres import fresh_schema
from tests.observability.test_metrics_multiprocess import _custom_paid


@pytest.fixture(scope="module")
def resources() -> list[Resource]:
    return render(K8S)


@pytest.fixture
def pod_root() -> Iterator[Path]:
    root = fake_root()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_pods_start_together_pass_their_probes_and_each_serves_its_own_metrics(resources, pod_root) -> None:
    with fresh_schema() as database_url:
        filled_in = {  # what the operator puts in the Secret
            "BRIDGE_DATABASE_URL": database_url,
            "BRIDGE_WEBHOOK_SECRET": signing.CUSTOM_SECRET,
            "BRIDGE_LOG_LEVEL": "INFO",
        }
        job = Pod(resources, "Job", "storebridge-migrate", pod_root, filled_in)
        web = Pod(resources, "Deployment", "storebridge-web", pod_root, filled_in)
        worker = Pod(resources, "Deployment", "storebridge-worker", pod_root, filled_in)
        pods = (job, web, worker)
        try:
            for pod in pods:  # `kubectl apply -k`: all at once, on an empty schema
                pod.start()
            assert job.process is not None and job.process.wait(120) == 0, job.output()
            assert "database at " in job.output()

            def started(pod: Pod) -> bool:
                assert pod.process is not None and pod.process.poll() is None, pod.output()[-3000:]
                return pod.probe("startupProbe")

            wait_until(lambda: started(web), 90, interval=0.5, describe=lambda: web.output()[-3000:])
            wait_until(lambda: started(worker), 90, interval=1.0, describe=lambda: worker.output()[-3000:])
            assert web.probe("livenessProbe") and web.probe("readinessProbe") and worker.probe("livenessProbe")

            _, body, headers = _custom_paid(7)
            answer = requests.post(f"{web.url('http')}/webhooks/custom", data=body, headers=headers, timeout=10)
            assert answer.status_code == 202, answer.text

            def scrape(pod: Pod, deployment: str) -> str:
                annotations = find(resources, "Deployment", deployment)["spec"]["template"]["metadata"]["annotations"]
                url = pod.url(int(annotations["prometheus.io/port"])) + annotations["prometheus.io/path"]
                answer = requests.get(url, timeout=10)
                assert answer.status_code == 200
                return answer.text

            delivered = 'bridge_deliveries_finished_total{destination="activecampaign",state="dry_run"} 1.0'

            def worker_delivered() -> str | None:
                text = scrape(worker, "storebridge-worker")
                return text if delivered in text else None

            worker_text = wait_until(worker_delivered, 60, interval=0.5, describe=lambda: worker.output()[-3000:])
            assert "bridge_metrics_database_up 1.0" in worker_text
            assert "bridge_events_received_total{" not in worker_text, "the web pod's figure"
            web_text = scrape(web, "storebridge-web")
            assert 'bridge_events_received_total{kind="order.paid",outcome="accepted",source="custom"} 1.0' in web_text
            assert "bridge_deliveries_finished_total{" not in web_text, "the worker pod's figure"

            figures = {"web": web.rss_mib(), "worker": worker.rss_mib()}
            for role, used in figures.items():
                limit = mebibytes(
                    only_container(resources, "Deployment", f"storebridge-{role}")["resources"]["limits"]["memory"]
                )
                assert used < 0.8 * limit, f"{role} uses {used:.0f} MiB of its {limit:.0f} MiB limit"
            print(f"\npods as processes: web {figures['web']:.0f} MiB (gunicorn master + "
                  f"{web.env['BRIDGE_WEB_WORKERS']} workers), worker {figures['worker']:.0f} MiB resident")  # fmt: skip
            assert not list(web.workdir.iterdir()) and not list(worker.workdir.iterdir()), "nothing on the root fs"
        finally:
            for pod in reversed(pods):
                pod.stop()
        for pod in pods:
            assert "Traceback" not in pod.output(), pod.output()[-3000:]
