"""Storage backends: a local directory, and a real S3-compatible server (moto's server mode on loopback)."""

from __future__ import annotations

import pytest

from docagent.service.storage import LocalStorage, S3Storage, get_storage
from docagent.settings import Settings
from tests.conftest import EXAMPLE
from tests.service import embedded, free_port, wait_status


@pytest.fixture(scope="module")
def s3_server():
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    import boto3

    env = {"AWS_ENDPOINT_URL": s3_server, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    bucket = f"docs-{free_port()}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    return env, bucket


def roundtrip(storage, tmp_path):
    src = tmp_path / "a.bin"
    src.write_bytes(b"hello" * 1000)
    assert storage.put("jobs/1/pdf", src) == 5000
    assert storage.exists("jobs/1/pdf") and not storage.exists("jobs/1/docx")
    with storage.open("jobs/1/pdf") as f:
        assert f.read() == b"hello" * 1000
    with storage.local_path("jobs/1/pdf") as p:
        assert p.read_bytes()[:5] == b"hello"
    storage.check()
    storage.delete("jobs/1/pdf")
    assert not storage.exists("jobs/1/pdf")


def test_local_storage(tmp_path):
    roundtrip(LocalStorage(tmp_path / "store"), tmp_path)


def test_local_storage_keys_cannot_escape(tmp_path):
    s = LocalStorage(tmp_path / "store")
    src = tmp_path / "x"
    src.write_bytes(b"x")
    s.put("../../outside", src)
    assert (tmp_path / "store" / "outside").is_file() and not (tmp_path.parent / "outside").exists()


def test_s3_storage_against_a_real_s3_server(s3_env, tmp_path):
    _, bucket = s3_env
    storage = get_storage(Settings(storage_url=f"s3://{bucket}/prefix"))
    assert isinstance(storage, S3Storage)
    roundtrip(storage, tmp_path)


def test_service_with_s3_storage(s3_env, tmp_path):
    env, bucket = s3_env
    with embedded(tmp_path, DOCAGENT_STORAGE_URL=f"s3://{bucket}/docagent", **env) as stack, stack.client() as c:
        with EXAMPLE.open("rb") as f:
            ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
        job_id = c.post("/v1/jobs", json={"prompt": "S3 run", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()[
            "id"
        ]
        job = wait_status(c, job_id, {"succeeded", "failed"})
        assert job["status"] == "succeeded", stack.log_text()
        assert c.get(job["artifacts"][0]["url"]).content[:5] == b"%PDF-"
    import boto3

    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"docagent/jobs/{job_id}/pdf" in keys and any(k.startswith("docagent/datasets/") for k in keys)
