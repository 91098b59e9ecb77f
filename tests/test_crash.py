"""Crash safety and unusable output locations, with real ``scrapewash run`` processes.

A run killed with SIGKILL at any moment leaves the earlier runs' datasets, index and manifests
byte for byte as they were and readable, shows readers nothing of itself until its commit (inside
the commit: only whole partitions, which the next run rolls back), and the next run of the same
command completes: it recovers, then commits the run once (or nothing, when the killed run had
already committed, since runs skip inputs an earlier run read).

Deterministic kill points use the fault-injection hook ``_crash_point`` of ``tasks/write.py``
(``SCRAPEWASH_CRASH_POINT``): the run SIGKILLs its own process group there. Random kills come
from here. Each run is started in a new session and its whole process group is killed and
checked for survivors (Prefect's temporary API server included).

Runs report to the test session's Prefect API (``PREFECT_API_URL``) to save the temporary
server's start-up, except one that starts its own, to prove it dies with the run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES, assert_reconciles

pytestmark = pytest.mark.slow

DATASETS = ("documents", "removed", "quarantine")
INDEX = ("_index/documents", "_index/paragraphs", "_index/templates")
VOLATILE = ("run_id", "processed_at")  # the only columns in which two runs of the same input differ
B_CONFIG = "[read]\nbytes_per_shard = 16384\n"  # B's JSONL in 3 shards


# --- running the command line -----------------------------------------------------------------------


def cli_env(home: Path, api_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PREFECT_") and not k.startswith("SCRAPEWASH_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:  # a temporary server of its own, which can start slowly on a loaded machine
        env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    env.update(extra)
    return env


class Attempt:
    """One ``scrapewash run`` process in its own session (process group), its output in files.

    Its environment carries a tag that every process it starts inherits (Prefect's temporary API
    server too), so that survivors can be found whatever their process group.
    """

    def __init__(self, args: list[str], env: dict[str, str], logdir: Path, name: str):
        logdir.mkdir(parents=True, exist_ok=True)
        self.tag = f"{logdir.parent.name}-{name}-{os.getpid()}-{time.monotonic_ns()}"
        self.stdout_path, self.stderr_path = logdir / f"{name}.out", logdir / f"{name}.err"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "scrapewash.cli", "run", *args], stdout=out,
                                         stderr=err, env={**env, "SCRAPEWASH_TEST_ATTEMPT": self.tag},
                                         cwd=logdir, start_new_session=True)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def output(self) -> str:
        return self.stdout + self.stderr_path.read_text(errors="replace")

    def wait(self, timeout: float = 300) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"run did not finish in {timeout} s:\n{self.output[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL the whole process group, then make sure none of the run's processes survives."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.assert_gone()

    def assert_gone(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (alive := self.survivors()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        assert not alive, f"processes of the killed run survived: {alive}"

    def survivors(self) -> list[int]:
        """Live processes (zombies have no environment) whose environment carries this run's tag."""
        mark = f"SCRAPEWASH_TEST_ATTEMPT={self.tag}".encode()
        found = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    env = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue
                if mark in env.split(b"\0"):
                    found.append(int(pid))
        return found


# --- what a reader sees -----------------------------------------------------------------------------


def file_hashes(out: Path) -> dict[str, str]:
    """Every file under the output root but the lock and the staging area: relative path -> sha256."""
    found = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and rel != ".lock" and not rel.startswith("_staging/"):
            found[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def partition_ids(out: Path) -> dict[str, set[str]]:
    """dataset or index part -> the run ids that have a partition in it."""
    return {d: {p.name for p in (out / d).iterdir() if p.is_dir()} if (out / d).is_dir() else set()
            for d in DATASETS + INDEX}


def rows(out: Path, part: str, run_id: str) -> list[dict]:
    """A partition's rows, without the columns that differ between two runs of the same input."""
    files = sorted((out / part / run_id).glob("*.parquet"))
    result = []
    for f in files:
        t = pq.read_table(f)
        result += t.drop_columns([c for c in VOLATILE if c in t.column_names]).to_pylist()
    return result


def reader_counts(out: Path) -> dict[str, dict[str, int]]:
    """Rows per run id of each dataset, as pyarrow.dataset and DuckDB read ``OUT/<dataset>``; both agree."""
    counts = {}
    for name in DATASETS:
        base = out / name
        if not base.is_dir() or not list(base.glob("*/*.parquet")):
            counts[name] = {}
            continue
        t = ds.dataset(str(base), format="parquet").to_table(columns=["run_id"])
        by_run: dict[str, int] = {}
        for r in t.column("run_id").to_pylist():
            by_run[r] = by_run.get(r, 0) + 1
        with duckdb.connect() as con:
            sql = f"select run_id, count(*) from '{base}/**/*.parquet' group by run_id"
            duck = dict(con.sql(sql).fetchall())
        assert duck == by_run, (name, duck, by_run)
        counts[name] = by_run
    return counts


class Committed:
    """What the first run A left: every file's hash, its rows, its manifest."""

    def __init__(self, out: Path):
        manifests = sorted((out / "_runs").glob("*.json"))
        assert len(manifests) == 1
        self.manifest = json.loads(manifests[0].read_text())
        self.run_id = self.manifest["run_id"]
        self.files = file_hashes(out)
        self.rows = {p: rows(out, p, self.run_id) for p in DATASETS + INDEX}
        self.counts = {n: len(self.rows[n]) for n in DATASETS}

    def assert_intact(self, out: Path) -> None:
        now = file_hashes(out)
        changed = sorted(f for f, h in self.files.items() if now.get(f) != h)
        assert not changed, f"files of the committed run A changed or vanished: {changed}"
        for p, r in self.rows.items():
            assert rows(out, p, self.run_id) == r, p
        seen = reader_counts(out)
        for name, n in self.counts.items():
            assert seen[name].get(self.run_id, 0) == n, (name, seen[name])


# --- the inputs ---------------------------------------------------------------------------------------


def make_b_input(folder: Path) -> list[str]:
    """Run B's input: the sample articles with other ids and each paragraph's words shuffled (so they are
    not near-copies of A's), and the sample of broken JSONL (3 records quarantined: exit code 3)."""
    folder.mkdir(parents=True)
    rng = random.Random(7)
    lines = []
    for line in (SAMPLES / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        paras = []
        for para in rec["text"].split("\n"):
            words = para.split()
            rng.shuffle(words)
            paras.append(" ".join(words))
        rec["id"] = f"b-{rec['id']}"
        rec["text"] = "\n".join(paras)
        lines.append(json.dumps(rec, ensure_ascii=False))
    (folder / "articles-b.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(SAMPLES / "bad" / "broken.jsonl", folder / "broken.jsonl")
    (folder / "b.toml").write_text(B_CONFIG)
    return [str(folder / "articles-b.jsonl"), str(folder / "broken.jsonl")]


@pytest.fixture(scope="module")
def api() -> str:
    """The test session's Prefect API (conftest's harness), for the runs started here."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the session's Prefect test API is not running"
    return url


@pytest.fixture(scope="module")
def world(tmp_path_factory, api):
    """An output root holding one committed run A (made by the command line), and run B's command."""
    base = tmp_path_factory.mktemp("crash")
    out = base / "out-a"
    a = Attempt([str(SAMPLES / "articles.jsonl"), str(SAMPLES / "pages"), "--out", str(out)],
                cli_env(base / "home-a", api), base / "logs", "a")
    assert a.wait() == 0, a.output[-3000:]
    b_inputs = make_b_input(base / "b")
    return {"base": base, "api": api, "out": out, "a": Committed(out),
            "b_args": [*b_inputs, "--config", str(base / "b" / "b.toml"), "--json"]}


# --- a chain of killed attempts on one copy of A's output root, then a run to completion ---------------


class Chain:
    """Runs B's command again and again on one copy of A's output root: killed at chosen points, then
    to completion, checking after each kill what readers see and after the end what is committed."""

    def __init__(self, world, name: str):
        self.world, self.name = world, name
        self.dir = world["base"] / name
        self.out = self.dir / "out"
        shutil.copytree(world["out"], self.out)
        self.a: Committed = world["a"]
        self.a.assert_intact(self.out)
        self.killed: list[str] = []  # run ids of killed attempts, in order
        self.visible: dict[str, list[dict]] = {}  # partitions of a killed commit seen by readers
        self.committed_by_kill: str | None = None
        self.states: list[tuple[str, str]] = []  # (kill point, what readers saw after it)
        self.n = 0

    def start(self, api: str | None, **env: str) -> Attempt:
        self.n += 1
        self.staging_before = self._staging()
        return Attempt([*self.world["b_args"], "--out", str(self.out)],
                       cli_env(self.dir / "home", api, **env), self.dir / "logs", f"{self.n}")

    def _staging(self) -> set[str]:
        s = self.out / "_staging"
        return {p.name for p in s.iterdir() if not p.name.startswith(".")} if s.is_dir() else set()

    def kill_at(self, point: str, api: str | None = "shared") -> str:
        """Run until the fault-injection point, where the run SIGKILLs its process group; then check."""
        flag = self.dir / f"reached-{self.n + 1}"
        att = self.start(self.world["api"] if api == "shared" else api,
                         SCRAPEWASH_CRASH_POINT=point, SCRAPEWASH_CRASH_POINT_FILE=str(flag))
        code = att.wait()
        assert flag.exists(), f"{self.name}: never reached {point} (exit {code}):\n{att.output[-3000:]}"
        assert code == -signal.SIGKILL, code
        att.assert_gone()  # the run's SIGKILL took its whole process group (a temporary API server too)
        return self.after_kill(att, point)

    def kill_randomly(self, seed: int, window: float) -> str:
        """SIGKILL the run's process group at a random moment of its work (from its staging folder on)."""
        att = self.start(self.world["api"])
        deadline = time.monotonic() + 120
        while att.proc.poll() is None and not (self._staging() - self.staging_before):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(random.Random(seed).uniform(0, window))
        att.kill()
        return self.after_kill(att, f"random seed {seed}")

    def after_kill(self, att: Attempt, what: str) -> str:
        """A is intact; readers see nothing of the killed attempt unless it reached its commit: then only
        whole partitions (compared with B's final rows at the end) or, after its manifest, all of it."""
        out, a = self.out, self.a
        a.assert_intact(out)
        new_staging = self._staging() - self.staging_before
        markers = {p.name[: -len(".committing")] for p in (out / "_runs").glob("*.committing")}
        manifests = {p.stem for p in (out / "_runs").glob("*.json")} - {a.run_id}
        new = (new_staging | markers | manifests) - set(self.killed)
        assert len(new) <= 1, f"{self.name}: more than one new run after {what}: {new}"
        # an attempt that got past planning removed the staging folder of the one killed before it
        if self.killed and new_staging:
            assert self.killed[-1] not in self._staging(), f"{self.name}: no recovery before {what}"
            assert f"deleted abandoned staging folder {self.killed[-1]}" in att.output or \
                   f"rolled back the interrupted commit of run {self.killed[-1]}" in att.output
        seen = partition_ids(out)
        others = {p: runs - {a.run_id} for p, runs in seen.items()}
        if manifests:  # killed after its manifest: the run is committed, whole and correct
            (b,) = manifests
            m = json.loads((out / "_runs" / f"{b}.json").read_text())
            assert all(others[p] <= {b} for p in others), others
            assert others["documents"] == {b} and others["removed"] == {b}
            assert_reconciles(out, {**m["counts"], "run_id": b})
            counts = reader_counts(out)
            assert {n: counts[n].get(b, 0) for n in DATASETS} == \
                {"documents": m["counts"]["documents_out"], "removed": len(rows(out, "removed", b)),
                 "quarantine": m["counts"]["quarantined"]}
            self.committed_by_kill = b
            state = "committed"
        elif markers:  # killed inside its commit (or its rollback): whole partitions only, as renamed
            (b,) = markers
            for p, runs in others.items():
                assert runs <= {b}, (p, runs)
                if runs:
                    self.visible[p] = rows(out, p, b)
            state = "committing"
        else:  # killed before its commit: readers see exactly A
            assert not any(others.values()), others
            assert reader_counts(out) == {n: ({a.run_id: c} if c else {}) for n, c in a.counts.items()}
            state = "before commit" if new_staging else "before staging"
        self.states.append((what, state))
        self.killed += sorted(new)
        return what

    def finish(self) -> dict:
        """Run B's command to completion: it recovers and commits B once (nothing if B was committed)."""
        att = self.start(self.world["api"])
        code = att.wait()
        assert code in (0, 3), f"{self.name} after {self.states}: exit {code}\n{att.output[-3000:]}"
        counts = json.loads(att.stdout[att.stdout.index("{"):])
        out, a = self.out, self.a
        a.assert_intact(out)
        assert not (out / "_staging").exists() or not any((out / "_staging").iterdir()), "staging left behind"
        assert not list((out / "_runs").glob("*.committing")) and not list((out / "_runs").glob(".*"))
        if self.killed and self.killed[-1] != self.committed_by_kill:
            last = self.killed[-1]
            assert last in att.output, f"{self.name}: recovery of {last} not reported:\n{att.output[-3000:]}"
        manifests = sorted(p.stem for p in (out / "_runs").glob("*.json"))
        if self.committed_by_kill:
            # B's manifest lists its input files: the same command finds nothing new and commits nothing.
            assert counts["committed"] is False and code == 0, counts
            b = self.committed_by_kill
        else:
            assert counts["committed"] is True and code == 3, counts
            b = counts["run_id"]
            assert_reconciles(out, counts)
        assert manifests == sorted([a.run_id, b])
        m = json.loads((out / "_runs" / f"{b}.json").read_text())
        assert_reconciles(out, {**m["counts"], "run_id": b})
        assert {Path(f[0]).name for f in m["input_files"]} == {"articles-b.jsonl", "broken.jsonl"}
        for p, runs in partition_ids(out).items():
            assert runs <= {a.run_id, b}, (p, runs)
        counts_seen = reader_counts(out)
        assert counts_seen["documents"] == {a.run_id: a.counts["documents"], b: m["counts"]["documents_out"]}
        assert counts_seen["quarantine"].get(b, 0) == m["counts"]["quarantined"] == 3
        # every file is A's, B's or the lock: nothing of the killed attempts is left
        stray = [f for f in file_hashes(out) if f not in a.files and f"/{b}/" not in f"/{f}"
                 and f != f"_runs/{b}.json"]
        assert not stray, stray
        final = {p: rows(out, p, b) for p in DATASETS + INDEX}
        for p, r in self.visible.items():
            assert r == final[p], f"{self.name}: readers saw a partial {p} partition during a killed commit"
        return final


def run_stages(world) -> dict:
    """(a) while shards are prepared (the second prepared file half-written), (b) while they are
    finalized (the second finalized documents file half-written), (c) inside the commit after two of its renames (documents and removed are visible,
    quarantine and the index are not), then while the next run rolls that commit back; then the run to
    completion."""
    c = Chain(world, "stages")
    c.kill_at("parquet-write:prepared@2")
    c.kill_at("parquet-write:documents@2")
    c.kill_at("commit-renamed:removed")
    assert set(c.visible) == {"documents", "removed"}, c.visible.keys()
    c.kill_at("recover-rollback")
    assert not (c.out / "documents" / c.killed[-1]).exists(), "the rollback removes documents first"
    assert (c.out / "removed" / c.killed[-1]).exists()
    return c.finish()


def run_committed(world) -> dict:
    """(d) after the manifest, before the marker goes; this run starts Prefect's temporary server, which
    must die with it. The same command then commits nothing."""
    c = Chain(world, "committed")
    c.kill_at("commit-manifest", api=None)
    assert c.committed_by_kill
    assert (c.out / "_runs" / f"{c.committed_by_kill}.committing").exists()
    return c.finish()


def run_random(world) -> dict:
    """(e) SIGKILLs at random moments of a run's work, each run recovering the previous one's mess."""
    c = Chain(world, "random")
    window = world["a"].manifest["counts"]["duration_s"]
    for seed in (11, 12, 13):
        c.kill_randomly(seed, window)
    return c.finish()


def test_sigkill_at_any_point_leaves_earlier_runs_intact_and_the_next_run_completes(world):
    # Two at a time (more make the shared Prefect API's SQLite the bottleneck).
    with ThreadPoolExecutor(2) as pool:
        stages = pool.submit(run_stages, world)
        others = pool.submit(lambda: (run_committed(world), run_random(world)))
        finals = [stages.result(), *others.result()]
    # B's rows are the same whichever attempt committed them
    assert finals[0] == finals[1] == finals[2]
    assert finals[0]["documents"] and finals[0]["quarantine"]


# --- unusable output locations ------------------------------------------------------------------------


def run_cli(args: list[str], cwd: Path, api: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapewash.cli", "run", *args], capture_output=True,
                          text=True, env=cli_env(cwd / ".prefect", api), cwd=cwd, timeout=300)


def mount_tmpfs(path: Path, options: str) -> None:
    """Mount a tmpfs (root only); skip the test with the reason when that is not possible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True,
                       text=True)
    if p.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")


def umount(path: Path) -> None:
    """Unmount; if something (a file scanner, say) holds the file system busy, detach it lazily."""
    for _ in range(20):
        if subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
            return
        time.sleep(0.25)
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def only_message(p: subprocess.CompletedProcess) -> str:
    """The command's error: one line, and no sign that any work started."""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scrapewash: "), p.stderr[-3000:]
    assert "flow run" not in (p.stdout + p.stderr).lower()
    return lines[0]


def test_output_under_a_file_fails_at_once_with_a_clear_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    p = run_cli([str(SAMPLES / "pages"), "--out", str(blocker / "out")], tmp_path)
    assert p.returncode == 1
    out = blocker / "out"
    assert only_message(p) == f"scrapewash: output location {out} is not writable: not a directory"


def test_read_only_output_fails_at_once_with_a_clear_message(tmp_path):
    inputs = [str(SAMPLES / "pages")]
    ro = tmp_path / "ro"
    if os.geteuid() == 0:  # root writes through permissions: a read-only file system it is
        mount_tmpfs(ro, "size=1m,ro")
    else:
        ro.mkdir()
        ro.chmod(0o555)
    try:
        why = "read-only file system" if os.geteuid() == 0 else "permission denied"
        for out in (ro, ro / "new"):
            p = run_cli([*inputs, "--out", str(out)], tmp_path)
            assert p.returncode == 1
            assert only_message(p) == f"scrapewash: output location {out} is not writable: {why}"
        assert not list(ro.iterdir())
    finally:
        if os.geteuid() == 0:
            umount(ro)
        else:
            ro.chmod(0o755)


def big_input(path: Path, n_docs: int = 250) -> None:
    """Documents of long sentences of random letters and digits: all kept, and compressing poorly."""
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def sentence() -> str:
        return " ".join("".join(rng.choices(alphabet, k=rng.randint(3, 10))) for _ in range(80)) + "."

    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n_docs):
            fh.write(json.dumps({"id": f"big-{i}", "text": "\n".join(sentence() for _ in range(4))}) + "\n")


def fill(fs: Path) -> Path:
    """Fill a file system to the last byte with one file."""
    filler = fs / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    return filler


def test_full_output_location(tmp_path, world):
    """A small file system holding run A: full from the start, then full in the middle of a run; then
    with room again, the same command succeeds."""
    from scrapewash.tasks.write import check_output_root

    api = world["api"]
    out = tmp_path / "out"
    mount_tmpfs(out, "size=512k")
    try:
        shutil.copytree(world["out"], out, dirs_exist_ok=True)
        before = Committed(out)
        big = tmp_path / "big.jsonl"
        big_input(big)

        # Full already: the run stops before any work, saying so.
        filler = fill(out)
        p = run_cli([str(big), "--out", str(out)], tmp_path, api)
        assert p.returncode == 1
        assert only_message(p) == f"scrapewash: output location {out} is full: no space left on device"
        filler.unlink()
        before.assert_intact(out)
        assert not (out / "_staging").exists()

        # Full in the middle of the run: it fails naming the location, commits nothing, A is intact.
        p = run_cli([str(big), "--out", str(out)], tmp_path, api)
        assert p.returncode == 1, p.stderr[-3000:]
        (msg,) = [ln for ln in p.stderr.splitlines() if ln.startswith("scrapewash: ")]
        assert "nothing was committed" in msg
        assert f"output location {out} is full: no space left on device (writing _staging/" in msg
        before.assert_intact(out)
        assert sorted(p.name for p in (out / "_runs").iterdir()) == [f"{before.run_id}.json"]
        assert all(runs <= {before.run_id} for runs in partition_ids(out).values())
        assert any((out / "_staging").iterdir()), "the failed run's staging folder is left for the next run"

        # The next run's first check finds the location full, and frees what the failed run left.
        filler = fill(out)
        check_output_root(out)
        assert not any((out / "_staging").iterdir())
        filler.unlink()

        # With room, the same command succeeds.
        subprocess.run(["mount", "-o", "remount,size=16m", str(out)], check=True)
        p = run_cli([str(big), "--out", str(out), "--json"], tmp_path, api)
        assert p.returncode == 0, p.stderr[-3000:]
        counts = json.loads(p.stdout[p.stdout.index("{"):])
        assert counts["committed"] and counts["documents_out"] == 250
        assert not (out / "_staging").exists()
        before.assert_intact(out)
        assert_reconciles(out, counts)
    finally:
        umount(out)


def test_a_commit_that_fails_before_its_manifest_is_undone(tmp_path, monkeypatch):
    """A commit that fails (here: no space for the manifest) leaves nothing visible and can be retried."""
    from scrapewash.tasks import write

    paths = write.RunPaths(tmp_path, "20990101T000000Z-0badc0de")
    for part in ("documents", "removed", "_index/documents"):
        paths.staged(part).mkdir(parents=True)
        (paths.staged(part) / "part-00000.parquet").write_bytes(b"rows")
    real = write.write_json_atomic

    def no_space(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write, "write_json_atomic", no_space)
    with pytest.raises(write.OutputError, match=f"^output location {tmp_path} is full: no space left on"):
        write.commit(paths, {"run_id": paths.run_id})
    assert partition_ids(tmp_path) == {p: set() for p in DATASETS + INDEX}
    assert not paths.marker.exists() and not paths.manifest.exists()
    assert (paths.staged("removed") / "part-00000.parquet").exists()
    monkeypatch.setattr(write, "write_json_atomic", real)
    write.commit(paths, {"run_id": paths.run_id})  # a retry commits
    assert partition_ids(tmp_path)["_index/documents"] == {paths.run_id}
    assert paths.manifest.exists() and not paths.marker.exists() and not (tmp_path / "_staging").exists()
