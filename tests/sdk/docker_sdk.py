"""The Python docker SDK (`pip install docker`) against Berth: ping, version,
images, run, logs, list, inspect, stop and remove. Run by tests/tests/sdk.rs
with DOCKER_HOST pointing at a test daemon; exits non-zero on any mismatch."""

import docker

client = docker.from_env()
assert client.ping() is True
version = client.version()
assert version["ApiVersion"] == "1.47", version

tags = [t for image in client.images.list() for t in image.tags]
assert "busybox:latest" in tags, tags

# Run and wait: the output comes back as bytes, the container stays.
out = client.containers.run("busybox", ["echo", "hello from the sdk"], name="sdk-once")
assert out == b"hello from the sdk\n", out

# Detached, with env and a label; logs, list filters, inspect, stop, remove.
c = client.containers.run(
    "busybox",
    ["sh", "-c", "echo started $GREETING; sleep 300"],
    detach=True,
    name="sdk-bg",
    environment={"GREETING": "hi"},
    labels={"suite": "sdk"},
)
for _ in range(100):
    if b"started hi" in c.logs():
        break
    import time

    time.sleep(0.1)
assert c.logs() == b"started hi\n", c.logs()
c.reload()
assert c.status == "running", c.status
assert c.attrs["Config"]["Env"].count("GREETING=hi") == 1
listed = [x.name for x in client.containers.list(filters={"label": "suite=sdk"})]
assert listed == ["sdk-bg"], listed
every = sorted(x.name for x in client.containers.list(all=True))
assert every == ["sdk-bg", "sdk-once"], every
c.stop(timeout=0)
c.reload()
assert c.status == "exited", c.status
c.remove()
client.containers.get("sdk-once").remove()
assert client.containers.list(all=True) == []
try:
    client.containers.get("sdk-bg")
    raise SystemExit("a removed container is still found")
except docker.errors.NotFound:
    pass
print("docker SDK", docker.__version__, "ok")
