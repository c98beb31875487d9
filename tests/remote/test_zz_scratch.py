import subprocess, os
from tests.conftest import GIT_ENV, llmpipe_env
from tests.remote.conftest import BUCKET

def sh(cwd, env, *cmd):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    print("$", " ".join(cmd), "->", r.returncode, r.stdout, r.stderr)
    return r

def test_scratch(moto_s3, openssh, tmp_path):
    env = {**llmpipe_env(), **GIT_ENV, "AWS_ENDPOINT_URL": moto_s3.endpoint, "AWS_ACCESS_KEY_ID": moto_s3.key_id,
           "AWS_SECRET_ACCESS_KEY": moto_s3.secret, "AWS_DEFAULT_REGION": "us-east-1"}
    c = moto_s3.client
    c.put_object(Bucket=BUCKET, Key="imp/f.txt", Body=b"hello\n")
    c.put_object(Bucket=BUCKET, Key="imp/dir/x", Body=b"x\n")
    c.put_object(Bucket=BUCKET, Key="imp/dir/sub/y", Body=b"y\n")
    src = tmp_path / "sshsrc"; (src / "dir" / "sub").mkdir(parents=True)
    (src / "f.txt").write_text("hello\n"); (src/"dir"/"x").write_text("x\n"); (src/"dir"/"sub"/"y").write_text("y\n")
    root = tmp_path / "r"; root.mkdir()
    sh(root, env, "git", "init", "-q"); sh(root, env, "dvc", "init", "-q")
    sh(root, env, "dvc", "remote", "add", "ss", f"ssh://root@127.0.0.1:{openssh.port}{src}")
    sh(root, env, "dvc", "remote", "modify", "ss", "keyfile", str(openssh.user_key))
    sh(root, env, "dvc", "remote", "modify", "ss", "known_hosts", str(openssh.known_hosts))
    sh(root, env, "dvc", "import-url", f"s3://{BUCKET}/imp/f.txt")
    sh(root, env, "dvc", "import-url", f"s3://{BUCKET}/imp/dir", "s3dir")
    sh(root, env, "dvc", "import-url", "remote://ss/f.txt", "sf.txt")
    sh(root, env, "dvc", "import-url", "remote://ss/dir", "sdir")
    sh(root, env, "dvc", "import-url", "--fs-config", f"keyfile={openssh.user_key}", f"ssh://root@127.0.0.1:{openssh.port}{src}/f.txt", "sf2.txt")
    for f in ["f.txt.dvc", "s3dir.dvc", "sf.txt.dvc", "sdir.dvc", "sf2.txt.dvc", ".gitignore"]:
        print("=====", f); print((root / f).read_text() if (root/f).exists() else "MISSING")
    c.put_object(Bucket=BUCKET, Key="imp/f.txt", Body=b"hello2\n")
    sh(root, env, "dvc", "status", "--json")
    sh(root, env, "dvc", "update", "f.txt.dvc")
    print((root / "f.txt.dvc").read_text())
    sh(root, env, "dvc", "update", "f.txt.dvc")
    assert 0
