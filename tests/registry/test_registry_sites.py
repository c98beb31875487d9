"""The shared registry and deploy on every storage backend: a folder, S3 (moto), SSH.

Both name a configured remote (`remote://shared/...`), so its endpoint, keys and
SSH key file serve them as they serve push and pull. Refused credentials and a
stopped server are reported as registry errors naming the place, never as a
driver's traceback.
"""

from __future__ import annotations

import itertools

import pytest

from tests.remote import conftest as remote_sites
from tests.remote.conftest import RemoteSite

moto_s3 = remote_sites.moto_s3
openssh = remote_sites.openssh
site = remote_sites.site

REGISTRY = "url: remote://shared/registry\n"
_prefixes = itertools.count()


def _share(models, site: RemoteSite) -> None:  # noqa: ANN001
    """Remote `shared` at the site; not the default, so `register` pushes nothing there."""
    project = models.project
    project.ok("remote", "add", "shared", site.url)
    for key, value in site.options.items():
        project.ok("remote", "modify", "shared", key, value)
    for key, value in site.secret_options.items():
        project.ok("remote", "modify", "--local", "shared", key, value)


def _events(site: RemoteSite) -> list[str]:
    return [key for key in site.objects() if key.startswith("registry/")]


def _break(models, site: RemoteSite) -> None:  # noqa: ANN001
    for key, value in (site.bad_credentials or {}).items():
        models.project.ok("remote", "modify", "--local", "shared", key, value)


def test_a_shared_registry_on_a_remote(models, site) -> None:  # noqa: ANN001
    project = models.project
    _share(models, site)
    models.gates(REGISTRY)
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert not (project.path / ".llmpipe" / "registry" / "events.jsonl").exists()
    if site.kind == "local":  # a folder holds the log as one file, appended under a lock
        assert "registry/events.jsonl" in _events(site)
    else:  # one object per event
        assert _events(site) == [
            "registry/events/0000000000.json",
            "registry/events/0000000001.json",
        ]
    verified = project.ok("registry", "verify").out
    assert "registry OK: 2 event(s) verified" in verified
    shown = project.ok("registry", "show", "llm@staging", "--json").out
    assert '"version": "0.1.0"' in shown


def test_deploy_to_a_remote_writes_current_last(models, site) -> None:  # noqa: ANN001
    project = _promoted(models, site)
    out = project.ok("deploy", "llm@production", "--to", "remote://shared/serving").out
    assert "Deployed llm 0.1.0 (production): 2 file(s)" in out
    release = site.read("serving/CURRENT").decode().strip()
    assert release.startswith("llm-0.1.0-")
    weights = (project.path / "model" / "weights.bin").read_bytes()
    assert site.read(f"serving/releases/{release}/weights.bin") == weights
    assert f"serving/releases/{release}/MODEL_CARD.md" in site.objects()

    models.train(0.9)
    models.register()
    project.ok("registry", "promote", "llm", "0.1.1", "--to", "production")
    project.ok("deploy", "llm@production", "--to", "remote://shared/serving")
    assert site.read("serving/CURRENT").decode().startswith("llm-0.1.1-")
    project.ok("registry", "rollback", "llm", "--alias", "production")
    project.ok("deploy", "llm@production", "--to", "remote://shared/serving")
    assert site.read("serving/CURRENT").decode().strip() == release
    assert not [key for key in site.objects() if key.endswith(".tmp")]


def test_refused_credentials_on_the_registry_are_named(models, site) -> None:  # noqa: ANN001
    if site.bad_credentials is None:
        pytest.skip(f"{site.kind} storage has no credentials")
    project = models.project
    _share(models, site)
    models.gates(REGISTRY)
    _break(models, site)
    for command in (("registry", "list"), ("registry", "register", "llm", "model")):
        result = project.cli(*command)
        assert result.code == 1, result
        assert "the registry remote://shared/registry" in result.err
        assert "refused access" in result.err and "remote modify --local shared" in result.err
        assert "Traceback" not in result.err


def _promoted(models, site: RemoteSite):  # noqa: ANN001, ANN202
    """The project, with remote `shared` at the site and llm 0.1.0 in production."""
    _share(models, site)
    models.register()
    models.project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    return models.project


def test_refused_credentials_on_deploy_are_named(models, site) -> None:  # noqa: ANN001
    if site.bad_credentials is None:
        pytest.skip(f"{site.kind} storage has no credentials")
    project = _promoted(models, site)
    _break(models, site)
    result = project.cli("deploy", "llm@production", "--to", "remote://shared/serving")
    assert result.code == 1
    assert "deploy destination remote://shared/serving" in result.err
    assert "refused access" in result.err and "Traceback" not in result.err
    assert "deployed" not in project.ok("registry", "history", "llm").out


def test_a_stopped_server_is_named_on_registry_and_deploy(models, site) -> None:  # noqa: ANN001
    if site.stop is None:
        pytest.skip(f"{site.kind} storage has no server to stop")
    project = _promoted(models, site)
    site.stop()
    try:
        deployed = project.cli("deploy", "llm@production", "--to", "remote://shared/serving")
        models.gates(REGISTRY)
        listed = project.cli("registry", "list")
    finally:
        site.start()
    assert deployed.code == 1 and "cannot reach deploy destination" in deployed.err
    assert listed.code == 1 and "cannot reach the registry remote://shared" in listed.err
    for result in (deployed, listed):
        assert "check that the server is up" in result.err and "Traceback" not in result.err


# A plain s3:// URL: credentials and endpoint from botocore's chain, as for a remote.


@pytest.fixture
def aws_env(tmp_path, monkeypatch, moto_s3):  # noqa: ANN001, ANN201
    """No AWS settings but the endpoint of the moto server (and no keys yet)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_s3.endpoint)
    return monkeypatch


def test_a_plain_s3_url_uses_the_environment(models, moto_s3, aws_env) -> None:  # noqa: ANN001
    project = models.project
    url = f"s3://{remote_sites.BUCKET}/plain{next(_prefixes)}"
    models.gates(f"url: {url}/registry\n")
    refused = project.cli("registry", "register", "llm", "model")
    assert refused.code == 1 and f"the registry {url}/registry refused access" in refused.err
    assert "no AWS credentials found" in refused.err
    aws_env.setenv("AWS_ACCESS_KEY_ID", moto_s3.key_id)
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret)
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    project.ok("deploy", "llm@production", "--to", f"{url}/serving")
    prefix = url.split("/", 3)[3]
    current = moto_s3.client.get_object(Bucket=remote_sites.BUCKET, Key=f"{prefix}/serving/CURRENT")
    assert current["Body"].read().decode().startswith("llm-0.1.0-")


def test_a_missing_bucket_is_named(models, moto_s3, aws_env) -> None:  # noqa: ANN001
    aws_env.setenv("AWS_ACCESS_KEY_ID", moto_s3.key_id)
    aws_env.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret)
    models.gates("url: s3://no-such-registry-bucket/registry\n")
    result = models.project.cli("registry", "register", "llm", "model")
    assert result.code == 1
    assert "bucket 'no-such-registry-bucket' does not exist" in result.err


def test_a_remote_url_naming_no_remote_or_an_encrypted_one_is_refused(models) -> None:  # noqa: ANN001
    project = models.project
    models.gates("url: remote://nowhere/registry\n")
    result = project.cli("registry", "list")
    assert result.code == 1 and "remote 'nowhere' is not configured" in result.err
    project.ok("remote", "add", "sealed", str(project.path.parent / "sealed"))
    project.ok("remote", "modify", "sealed", "encrypt", "true")
    models.gates("url: remote://sealed/registry\n")
    result = project.cli("registry", "list")
    assert result.code == 1 and "remote 'sealed' is encrypted" in result.err
