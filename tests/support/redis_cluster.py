"""A real Redis Cluster for the tests: 3 masters and 3 replicas on loopback ports, stopped by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .redis_server import free_port, server_command

#: How long the cluster may take to form, and a failover to complete.
START_LIMIT = 30.0
#: How long a master may be silent before its replica takes over (ms): short, for the tests.
NODE_TIMEOUT_MS = 1000


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus port (+10000) is free as well."""
    ports: list[int] = []
    for _ in range(200):
        port = free_port()
        if port + 10000 <= 65535 and port not in ports and _bindable(port + 10000):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError("no free ports for a Redis Cluster")


def cli(port: int, *args: str, timeout: float = 5.0) -> str:
    """One redis-cli command to the node on ``port``: its output."""
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, text=True, timeout=timeout
    )
    return result.stdout


@dataclass
class Node:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            server_command(
                self.port,
                self.directory,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(self.directory / "nodes.conf"),
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--appendonly",
                "no",
            ),
            stdout=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class RedisCluster:
    """Six redis-server processes joined into a cluster of 3 masters, each with one replica."""

    directory: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Any node's URL: the client finds the others."""
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> None:
        self.nodes = [Node(port, self.directory / str(port)) for port in cluster_ports(6)]
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + START_LIMIT
        for node in self.nodes:
            while cli(node.port, "PING").strip() != "PONG":
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server (cluster mode) did not start")
                time.sleep(0.05)
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            capture_output=True,
            check=True,
            timeout=START_LIMIT,
        )
        self.wait_ok(deadline)
        self.wait_replicas_synced(deadline)

    def wait_ok(self, deadline: float) -> None:
        """Until every running node says ``cluster_state:ok`` and agrees there are 3 masters."""
        while True:
            running = [node for node in self.nodes if node.process is not None]
            if all("cluster_state:ok" in cli(node.port, "CLUSTER", "INFO") for node in running) and all(
                len(self.masters(node.port)) == 3 for node in running
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def wait_replicas_synced(self, deadline: float) -> None:
        while not all("master_link_status:up" in cli(port, "INFO", "replication") for port in self.replica_ports()):
            if time.monotonic() > deadline:
                raise RuntimeError("the replicas did not sync with their masters")
            time.sleep(0.1)

    def masters(self, asked: int | None = None) -> list[int]:
        """The ports of the masters that serve slots, as node ``asked`` (default: the first running) sees it."""
        port = asked if asked is not None else next(node.port for node in self.nodes if node.process is not None)
        found: list[int] = []
        for line in cli(port, "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if len(fields) > 8 and "master" in fields[2] and "fail" not in fields[2]:
                found.append(int(fields[1].split("@")[0].rpartition(":")[2]))
        return found

    def replica_of(self, master: int) -> int:
        """The port of ``master``'s replica."""
        lines = [line.split() for line in cli(master, "CLUSTER", "NODES").splitlines()]
        master_id = next(fields[0] for fields in lines if "myself" in fields[2])
        return next(int(fields[1].split("@")[0].rpartition(":")[2]) for fields in lines if fields[3] == master_id)

    def node_id(self, port: int) -> str:
        return cli(port, "CLUSTER", "MYID").strip()

    def move_slot(self, slot: int, target: int, pause: float = 0.0) -> None:
        """Move ``slot`` to the master on port ``target``, as ``redis-cli --cluster reshard`` does:
        importing and migrating, its keys MIGRATEd in batches of 2 (``pause`` seconds between
        them: the slot is half moved meanwhile, and clients get ASK), then the owner changed on
        every master (clients get MOVED)."""
        source = next(port for port in self.masters() if _serves(cli(port, "CLUSTER", "NODES"), port, slot))
        source_id, target_id = self.node_id(source), self.node_id(target)
        cli(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
        cli(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
        for _ in range(1000):
            keys = cli(source, "CLUSTER", "GETKEYSINSLOT", str(slot), "2").split()
            if not keys:
                break
            cli(source, "MIGRATE", "127.0.0.1", str(target), "", "0", "5000", "KEYS", *keys)
            time.sleep(pause)
        for port in self.masters():
            cli(port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)

    def replica_ports(self) -> list[int]:
        masters = set(self.masters())
        return [node.port for node in self.nodes if node.process is not None and node.port not in masters]

    def node(self, port: int) -> Node:
        return next(node for node in self.nodes if node.port == port)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


@contextmanager
def redis_cluster(directory: Path) -> Iterator[RedisCluster]:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.fail("redis-server is not installed: ./dev test installs it (apt-get install redis-server)")
    cluster = RedisCluster(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _serves(nodes: str, port: int, slot: int) -> bool:
    """Whether the node on ``port`` serves ``slot``, per a CLUSTER NODES listing."""
    for line in nodes.splitlines():
        fields = line.split()
        if f":{port}@" not in fields[1]:
            continue
        for part in fields[8:]:
            start, _, end = part.partition("-")
            if start.isdigit() and int(start) <= slot <= int(end or start):
                return True
    return False
