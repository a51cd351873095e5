#!/usr/bin/env python3
"""Writes at speed and bounded resources, OCOD next to PocketBase on this machine.

Run through bench/enroll.sh (it builds OCOD, installs wrk and PocketBase). Both servers
and wrk share the machine; rounds of the two systems are interleaved. It prints:

- a bare endpoint (OCOD /health/live, PocketBase /api/health),
- enrollment creates: 1,000 residents, fresh 50-seat sessions, wrk -t2 -c64; OCOD on
  SQLite against PocketBase's record creates (an `enrollments` collection with a unique
  (user, session) index and the create rule "authenticated, self only"); OCOD on
  PostgreSQL on its own; goals: OCOD/PocketBase >= 2, p99 < 100 ms, PostgreSQL >= 1,500/s,
- the SQLite write-ahead log through those rounds (goal: under 64 MiB),
- memory: the resident set of a fresh server through 200 sign-ups and then 200 logins,
  64 at a time (goal: under 128 MiB), with the 503s it answered (clients retry after
  Retry-After, as the app does).
"""

import argparse
import concurrent.futures
import json
import math
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OCOD = os.path.join(ROOT, "target", "release", "ocod")
SECRET = "bench-secret-bench-secret-bench-secret-01"
PASSWORD = "bench-password-2026"
ADMIN_EMAIL = "admin@bench.ocod.th"
SEATS = 50


def call(method, url, body=None, token=None, timeout=120):
    """One HTTP request: (status, parsed JSON or None, headers)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return e.code, parsed, e.headers


def must(expected, result, what):
    status, body, _ = result
    if status != expected:
        sys.exit(f"{what}: expected {expected}, got {status}: {body}")
    return body


def wait_ready(url, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    sys.exit(f"{what} not ready at {url}")


def parallel(n, workers, f):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(f, range(n)))


def rss_kib(pid):
    """(VmRSS, VmHWM, threads) of a process, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    return int(fields["VmRSS"]), int(fields["VmHWM"]), int(fields["Threads"])


class Ocod:
    """An `ocod serve` with its own database and log file."""

    def __init__(self, work, name, database_url, port, extra_env=None):
        self.base = f"http://127.0.0.1:{port}"
        self.database_url = database_url
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            OCOD_BIND=f"127.0.0.1:{port}",
            OCOD_JWT_SECRET=SECRET,
            OCOD_LOG="info",
            OCOD_LOG_FORMAT="json",
            OCOD_ACCESS_TOKEN_TTL="3h",
            # The bench signs 1,000 people up from one address and enrolls each of
            # them in many sessions: the per-address and per-person limits would stop
            # it (the checks still run).
            OCOD_SIGNUPS_PER_ADDRESS_PER_HOUR="0",
            OCOD_MAX_UPCOMING_ENROLLMENTS="1000",
            OCOD_MAX_WAITLISTED="1000",
            **(extra_env or {}),
            **json.loads(os.environ.get("BENCH_OCOD_ENV", "{}")),
        )
        subprocess.run(
            [OCOD, "user", "create", "--role", "admin", "--email", ADMIN_EMAIL,
             "--password", PASSWORD, "--name", "Bench admin"],
            env=self.env, check=True, stdout=subprocess.DEVNULL,
        )
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = subprocess.Popen([OCOD, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        wait_ready(self.base + "/health/ready", self.proc, f"ocod ({name})")
        self.admin = self.login(ADMIN_EMAIL)

    def api(self, path):
        return self.base + "/api/v1" + path

    def login(self, login):
        return must(200, call("POST", self.api("/auth/login"), {"login": login, "password": PASSWORD}),
                    "login")["access_token"]

    def residents(self, n):
        def register(i):
            body = must(201, call("POST", self.api("/auth/register"),
                                  {"phone": f"081{i:07d}", "password": PASSWORD,
                                   "display_name": f"ผู้เรียน {i}"}), "register")
            return body["access_token"], body["user"]["id"]
        return parallel(n, 4, register)

    def network(self):
        center = must(201, call("POST", self.api("/centers"), {
            "code": "BENCH-1", "name_th": "ศูนย์ทดสอบ", "name_en": "Bench center",
            "province": "Loei", "district": "Mueang Loei", "subdistrict": "Kut Pong",
            "lat": 17.49, "lon": 101.72}, self.admin), "center")
        course = must(201, call("POST", self.api("/courses"), {
            "title_th": "ใช้มือถืออย่างปลอดภัย", "title_en": "Safe phone use",
            "description_th": "ทดสอบ", "description_en": "Bench", "category": "online_safety",
            "level": "beginner", "duration_minutes": 120}, self.admin), "course")
        self.center_id, self.course_id = center["id"], course["id"]
        self.next_day = 3

    def sessions(self, n):
        def create(i):
            start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=self.next_day, minutes=i)
            return must(201, call("POST", self.api(f"/centers/{self.center_id}/sessions"), {
                "course_id": self.course_id, "starts_at": start.isoformat().replace("+00:00", "Z"),
                "ends_at": (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
                "capacity": SEATS}, self.admin), "session")["id"]
        ids = parallel(n, 4, create)
        self.next_day += 1
        return ids

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


class PocketBase:
    """A `pocketbase serve` with the collections the bench writes to."""

    def __init__(self, binary, work, port):
        self.base = f"http://127.0.0.1:{port}"
        data = os.path.join(work, "pb_data")
        subprocess.run([binary, "superuser", "upsert", ADMIN_EMAIL, PASSWORD, "--dir", data],
                       check=True, stdout=subprocess.DEVNULL)
        self.log = open(os.path.join(work, "pocketbase.log"), "w")
        self.proc = subprocess.Popen([binary, "serve", f"--http=127.0.0.1:{port}", "--dir", data],
                                     stdout=self.log, stderr=self.log)
        wait_ready(self.base + "/api/health", self.proc, "pocketbase")
        self.admin = must(200, call("POST", self.base + "/api/collections/_superusers/auth-with-password",
                                    {"identity": ADMIN_EMAIL, "password": PASSWORD}), "pb superuser")["token"]
        must(200, call("POST", self.base + "/api/collections", {
            "name": "enrollments", "type": "base",
            "fields": [
                {"name": "user", "type": "relation", "collectionId": "_pb_users_auth_",
                 "required": True, "maxSelect": 1, "cascadeDelete": True},
                {"name": "session", "type": "text", "required": True},
                {"name": "status", "type": "text"},
            ],
            "indexes": ["CREATE UNIQUE INDEX idx_enrollments_user_session ON enrollments (user, session)"],
            "createRule": '@request.auth.id != "" && @request.body.user = @request.auth.id',
        }, self.admin), "pb collection")

    def sign_up(self, i):
        return call("POST", self.base + "/api/collections/users/records", {
            "email": f"r{i}@bench.ocod.th", "password": PASSWORD, "passwordConfirm": PASSWORD})

    def residents(self, n):
        def create(i):
            user = must(200, self.sign_up(i), "pb user")
            token = must(200, call("POST", self.base + f"/api/collections/users/impersonate/{user['id']}",
                                   {"duration": 10800}, self.admin), "pb impersonate")["token"]
            return token, user["id"]
        return parallel(n, 4, create)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


def parse_wrk(out):
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    timeouts = re.search(r"timeout (\d+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p99, int(timeouts.group(1)) if timeouts else 0, int(errors.group(1)) if errors else 0


def wrk(url, args, duration, connections, env=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency", *args, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return parse_wrk(out), out


def enroll_round(work, target, base, users, sessions, duration, connections):
    users_file = os.path.join(work, f"{target}-users.tsv")
    sessions_file = os.path.join(work, f"{target}-sessions.txt")
    with open(users_file, "w") as f:
        f.writelines(f"{t}\t{i}\n" for t, i in users)
    with open(sessions_file, "w") as f:
        f.writelines(f"{s}\n" for s in sessions)
    env = dict(os.environ, ENROLL_TARGET=target, ENROLL_USERS=users_file,
               ENROLL_SESSIONS=sessions_file, ENROLL_THREADS="2")
    (rps, p99, timeouts, errors), out = wrk(base, ["-s", os.path.join(ROOT, "bench", "enroll.lua")],
                                            duration, connections, env)
    if errors:
        sys.exit(f"{target}: wrk saw {errors} answers other than 2xx:\n{out}")
    return rps, p99, timeouts


class FileWatch(threading.Thread):
    """Largest size a file reached while it was watched."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.largest, self.running = path, 0, True

    def run(self):
        while self.running:
            try:
                self.largest = max(self.largest, os.path.getsize(self.path))
            except OSError:
                pass
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.join()


def mib(n):
    return n / (1024 * 1024)


def median(xs):
    return statistics.median(xs)


def sessions_per_round(args):
    """Enough fresh sessions for 20,000 creates a second (at 8,000 a run of OCOD on SQLite
    ran past the last one): a create past the last session would be a conflict, which
    stops the bench."""
    return math.ceil(args.duration * 20000 / args.residents) + 2


def bench_writes(args, work, pocketbase_bin):
    ocod = Ocod(work, "ocod-sqlite", os.path.join(work, "ocod.db"), 18110)
    pb = PocketBase(pocketbase_bin, work, 18111)
    try:
        # Bare endpoints.
        print(f"wrk -t2 -c{args.connections}, {args.duration}s per run, {args.rounds} interleaved rounds")
        for url in (ocod.base + "/health/live", pb.base + "/api/health"):
            wrk(url, [], 2, 8)
        (o_rps, o_p99, _, _), _ = wrk(ocod.base + "/health/live", [], args.duration, args.connections)
        (p_rps, p_p99, _, _), _ = wrk(pb.base + "/api/health", [], args.duration, args.connections)
        print(f"bare endpoint        OCOD {o_rps:9.0f} req/s p99 {o_p99:6.1f} ms   "
              f"PocketBase {p_rps:9.0f} req/s p99 {p_p99:6.1f} ms   ratio {o_rps / p_rps:.2f}")

        started = time.time()
        ocod.network()
        o_users = ocod.residents(args.residents)
        p_users = pb.residents(args.residents)
        print(f"set-up: {args.residents} residents in each system ({time.time() - started:.0f} s)")
        per_round = sessions_per_round(args)
        wal = FileWatch(os.path.join(work, "ocod.db-wal"))
        wal.start()
        results = {"ocod": [], "pocketbase": []}
        for r in range(1, args.rounds + 1):
            o = enroll_round(work, "ocod", ocod.base, o_users, ocod.sessions(per_round),
                             args.duration, args.connections)
            p = enroll_round(work, "pocketbase", pb.base, p_users,
                             [f"round{r}-session{i}" for i in range(per_round)],
                             args.duration, args.connections)
            results["ocod"].append(o)
            results["pocketbase"].append(p)
            print(f"  round {r}  OCOD (SQLite) {o[0]:7.0f} creates/s p99 {o[1]:6.1f} ms ({o[2]} time-outs)   "
                  f"PocketBase {p[0]:7.0f} creates/s p99 {p[1]:6.1f} ms ({p[2]} time-outs)")
        wal.stop()
        o_rps, p_rps = median(x[0] for x in results["ocod"]), median(x[0] for x in results["pocketbase"])
        o_p99, p_p99 = median(x[1] for x in results["ocod"]), median(x[1] for x in results["pocketbase"])
        print(f"enrollment creates   OCOD {o_rps:7.0f}/s p99 {o_p99:6.1f} ms   PocketBase {p_rps:7.0f}/s "
              f"p99 {p_p99:6.1f} ms   ratio {o_rps / p_rps:.2f} (goal >= 2), OCOD p99 goal < 100 ms (medians)")
        print(f"  OCOD kept {ocod_counts(os.path.join(work, 'ocod.db'))} ({SEATS} seats a session)")
        wal_now = os.path.getsize(os.path.join(work, "ocod.db-wal")) if os.path.exists(
            os.path.join(work, "ocod.db-wal")) else 0
        print(f"SQLite WAL           largest {mib(wal.largest):.1f} MiB during the rounds (goal < 64 MiB), "
              f"{mib(wal_now):.1f} MiB after; the database beside it "
              f"{mib(os.path.getsize(os.path.join(work, 'ocod.db'))):.1f} MiB")
    finally:
        ocod.stop()
        pb.stop()


def ocod_counts(path):
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT status, count(*) FROM enrollments GROUP BY status ORDER BY status").fetchall()
    return ", ".join(f"{n} {status}" for status, n in rows)


def bench_postgres(args, work):
    admin_url = args.postgres
    db = "ocod_bench_enroll"
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {db}"], check=True)
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {db}"], check=True)
    url = admin_url.rsplit("/", 1)[0] + "/" + db
    ocod = Ocod(work, "ocod-postgres", url, 18112)
    try:
        ocod.network()
        users = ocod.residents(args.residents)
        per_round = sessions_per_round(args)
        rounds = []
        for r in range(1, args.rounds + 1):
            o = enroll_round(work, "ocod", ocod.base, users, ocod.sessions(per_round), args.duration,
                             args.connections)
            rounds.append(o)
            print(f"  round {r}  OCOD (PostgreSQL) {o[0]:7.0f} creates/s p99 {o[1]:6.1f} ms ({o[2]} time-outs)")
        print(f"enrollment creates   OCOD on PostgreSQL {median(x[0] for x in rounds):7.0f}/s "
              f"p99 {median(x[1] for x in rounds):6.1f} ms (goal >= 1,500/s)")
    finally:
        ocod.stop()
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {db}"], check=False)


def storm(n, workers, attempt):
    """n requests, `workers` at once; a 503 is retried after its Retry-After. Returns the
    number of 503s seen."""
    refused = [0]
    lock = threading.Lock()

    def one(i):
        while True:
            status, body, headers = attempt(i)
            if status == 503:
                with lock:
                    refused[0] += 1
                time.sleep(float(headers.get("Retry-After", "1")))
                continue
            return status, body
    results = parallel(n, workers, one)
    bad = [r for r in results if r[0] not in (200, 201)]
    if bad:
        sys.exit(f"storm: {len(bad)} failed, e.g. {bad[0]}")
    return refused[0]


def bench_memory(args, work, pocketbase_bin):
    n, at_once = args.storm, args.storm_connections
    mem_work = os.path.join(work, "memory")
    os.makedirs(mem_work)
    ocod = Ocod(mem_work, "ocod-memory", os.path.join(mem_work, "ocod.db"), 18113)
    pb = PocketBase(pocketbase_bin, mem_work, 18114)
    try:
        rows = []
        for name, proc, sign_up, log_in in (
            ("OCOD", ocod.proc,
             lambda i: call("POST", ocod.api("/auth/register"),
                            {"phone": f"089{i:07d}", "password": PASSWORD, "display_name": f"คน {i}"}),
             lambda i: call("POST", ocod.api("/auth/login"), {"login": f"089{i:07d}", "password": PASSWORD})),
            ("PocketBase", pb.proc, pb.sign_up,
             lambda i: call("POST", pb.base + "/api/collections/users/auth-with-password",
                            {"identity": f"r{i}@bench.ocod.th", "password": PASSWORD})),
        ):
            before, _, _ = rss_kib(proc.pid)
            started = time.time()
            refused = storm(n, at_once, sign_up)
            refused += storm(n, at_once, log_in)
            took = time.time() - started
            now, peak, threads = rss_kib(proc.pid)
            rows.append((name, before, peak, now, threads, refused, took))
        for name, before, peak, now, threads, refused, took in rows:
            print(f"memory {name:<11} {n} sign-ups then {n} logins, {at_once} at a time, {took:5.1f} s: "
                  f"RSS {before / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB, {now / 1024:.0f} MiB after, "
                  f"{threads} threads, {refused} answered 503"
                  + (" (goal: peak < 128 MiB)" if name == "OCOD" else ""))
    finally:
        ocod.stop()
        pb.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--residents", type=int, default=1000)
    parser.add_argument("--storm", type=int, default=200, help="sign-ups (then logins) in the memory part")
    parser.add_argument("--storm-connections", type=int, default=64)
    parser.add_argument("--postgres", default=os.environ.get(
        "OCOD_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--only", choices=["writes", "postgres", "memory"], action="append")
    parser.add_argument("--pocketbase", required=True, help="the pocketbase binary")
    args = parser.parse_args()
    parts = args.only or ["writes", "postgres", "memory"]
    work = tempfile.mkdtemp(prefix="ocod-bench-enroll-")
    try:
        if "writes" in parts:
            bench_writes(args, work, args.pocketbase)
        if "postgres" in parts:
            bench_postgres(args, work)
        if "memory" in parts:
            bench_memory(args, work, args.pocketbase)
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
