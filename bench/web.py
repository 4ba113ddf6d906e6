"""How many requests a second the site answers under the Procfile's gunicorn.

Runs the Procfile's release and web commands themselves, in production settings
(DEBUG off, a test SECRET_KEY, behind a TLS proxy: every request says
X-Forwarded-Proto: https), on a database of its own: DATABASE_URL's with "_web"
after its name (created, migrated, the bundled sample loaded by `load_sample`),
or a SQLite file without one; REDIS_URL's server on a Redis database of its own
(--redis-db). Then wrk (Debian's `wrk`: `apt-get install -y wrk`, which the bench
runs itself when it is missing; a bench tool, not a dependency of the service) runs
against, one after the other:

    signup        GET /                      the signup page
    preview_get   GET /preview.json?interests=diffusion+models (a warm index)
    preview_post  POST /preview.json         as the page sends it: its CSRF token
                                             in X-CSRFToken, the csrftoken cookie
    static        GET /static/paperboy/css/site.css (WhiteNoise)

each after a warm-up of its own, and all after the preview's (no scenario measures a
worker building its preview index).

A bench client is one IP: its server alone is given rate limits and a preview CPU
budget it cannot reach (PREVIEW_RATE_LIMIT_PER_HOUR, PREVIEW_CPU_SECONDS_PER_HOUR
in its environment); the production defaults are untouched.

    python bench/web.py [--duration 20] [--connections 8] [--threads 2]
                        [--workers N (WEB_CONCURRENCY)] [--web-threads N (WEB_THREADS)]
                        [--root TREE]

--root runs another checkout's Procfile and code with this venv (before/after).
Prints req/s and p99 of each, and the workers' CPU time per request (what a busy
machine, where req/s and p99 also measure the other programs, changes least); the
last line is one JSON object, with the Procfile's web command and the load average
before and after the run.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
INTERESTS = "diffusion models"
STATIC = "/static/paperboy/css/site.css"
# Never reached from one client in a run: the bench's server only.
UNREACHABLE = str(10**9)

# wrk's report, as one line of JSON (latencies in microseconds).
DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal here


def wrk_script(method: str, headers: dict[str, str], body: str = "") -> str:
    lines = [f"wrk.method = {lua_string(method)}"]
    lines += [f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()]
    if body:
        lines.append(f"wrk.body = {lua_string(body)}")
    return "\n".join(lines) + "\n" + DONE_LUA


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install wrk", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(install, env=env, check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_database(workdir: Path) -> str:
    """The bench's own database URL: DATABASE_URL's server, "<name>_web", created if
    missing; else a SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{workdir / 'web.sqlite3'}"
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_web"
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not exists.fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def bench_redis(redis_db: str) -> str | None:
    url = os.environ.get("REDIS_URL")
    return url and urlunsplit(urlsplit(url)._replace(path=f"/{redis_db}"))


def procfile(tree: Path) -> dict[str, str]:
    commands = {}
    for line in (tree / "Procfile").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


def server_env(port: int, workdir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PREVIEW_", "SIGNUP_", "WEB_", "LINK_"))
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="bench-web-secret-key-not-for-production-4f1d9a0c27b5e8",
        SITE_URL=f"https://127.0.0.1:{port}",
        BEHIND_TLS_PROXY="true",
        DATA_DIR=str(workdir / "data"),
        DATABASE_URL=bench_database(workdir),
        PORT=str(port),
        WEB_HOST="127.0.0.1",
        PREVIEW_RATE_LIMIT_PER_HOUR=UNREACHABLE,
        PREVIEW_CPU_SECONDS_PER_HOUR=UNREACHABLE,
        SIGNUP_RATE_LIMIT_PER_HOUR=UNREACHABLE,
        PYTHONDONTWRITEBYTECODE="1",
    )
    redis = bench_redis(args.redis_db)
    if redis:
        env["REDIS_URL"] = redis
    else:
        env.pop("REDIS_URL", None)
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.web_threads:
        env["WEB_THREADS"] = str(args.web_threads)
    return env


def release(tree: Path, env: dict[str, str]) -> None:
    """The Procfile's release command, then the bundled sample (papers for the preview)."""
    command = procfile(tree)["release"]
    subprocess.run(command, shell=True, cwd=tree, env=env, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "manage.py", "load_sample"],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
    )


def request(base: str, path: str, **kwargs) -> tuple[int, dict, bytes]:
    headers = {"X-Forwarded-Proto": "https", **kwargs.pop("headers", {})}
    req = urllib.request.Request(base + path, headers=headers, **kwargs)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if request(base, STATIC)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer in 60 s:\n{log.read_text()[-3000:]}")


def csrf_pair(base: str) -> tuple[str, str]:
    """The signup page's CSRF cookie and the token in its form, as a browser gets them."""
    status, headers, body = request(base, "/")
    assert status == 200, status
    cookie = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    return cookie["csrftoken"].value, token


def scenarios(base: str) -> dict[str, dict]:
    """Each scenario's request: path, method, headers (X-Forwarded-Proto: https
    always, as from the TLS proxy) and body."""
    cookie, token = csrf_pair(base)
    form = urlencode({"interests": INTERESTS})
    page_post = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookie}",
        "X-CSRFToken": token,
        "Origin": base.replace("http://", "https://"),
    }
    found = {
        "signup": {"path": "/"},
        "preview_get": {
            "path": f"/preview.json?{form}",
            "headers": {"Accept": "application/json"},
        },
        "preview_post": {
            "path": "/preview.json",
            "method": "POST",
            "headers": page_post,
            "body": form,
        },
        "static": {"path": STATIC},
    }
    for scenario in found.values():
        scenario.setdefault("method", "GET")
        scenario.setdefault("body", "")
        scenario["headers"] = {"X-Forwarded-Proto": "https", **scenario.get("headers", {})}
    return found


def check(base: str, name: str, scenario: dict) -> None:
    """One request by hand first: the bench measures answers, not refusals."""
    status, headers, body = request(
        base,
        scenario["path"],
        method=scenario["method"],
        headers=scenario["headers"],
        data=scenario["body"].encode() or None,
    )
    if status != 200:
        sys.exit(f"{name}: {status} {body[:300]!r}")
    if name.startswith("preview") and "total" not in json.loads(body):
        sys.exit(f"{name}: no total in {body[:300]!r}")
    if name != "static" and "Content-Security-Policy" not in headers:
        sys.exit(f"{name}: no Content-Security-Policy header")


def server_cpu_seconds(master: int) -> float:
    """CPU time (user + system) the gunicorn master's workers have used so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(wrk: str, base: str, scenario: dict, args, duration: int, workdir: Path) -> dict:
    script = workdir / "scenario.lua"
    script.write_text(wrk_script(scenario["method"], scenario["headers"], scenario["body"]))
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base + scenario["path"],
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = json.loads(output.split("WRKJSON ", 1)[1].splitlines()[0])
    return {
        "rps": round(found["requests"] / (found["duration_us"] / 1e6), 1),
        "p50_ms": round(found["p50_us"] / 1000, 2),
        "p99_ms": round(found["p99_us"] / 1000, 2),
        "max_ms": round(found["max_us"] / 1000, 1),
        "non_2xx": found["status_errors"],
        "socket_errors": found["socket_errors"],
    }


def warm_up(wrk: str, base: str, scenario: dict, args, workdir: Path) -> None:
    """Until a 2-second run has no slow answer: every worker has built its preview
    index (a second or more each, the first preview a worker answers)."""
    for _ in range(10):
        if run_wrk(wrk, base, scenario, args, 2, workdir)["max_ms"] < 500:
            return
    print("  (still answers slower than 500 ms after 20 s of warming up)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (the Procfile's default)")
    parser.add_argument("--web-threads", type=int, help="WEB_THREADS (the Procfile's default)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument(
        "--redis-db",
        default=os.environ.get("REDIS_BENCH_DB") or os.environ.get("REDIS_TEST_DB") or "13",
        help="the bench server's Redis database, on REDIS_URL's server (REDIS_BENCH_DB, "
        "else REDIS_TEST_DB, else 13): never a deployment's",
    )
    parser.add_argument("--only", help="comma-separated scenarios")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    tree = args.root.resolve()
    load_before = os.getloadavg()[0]
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="paperboy-web-bench-"))
    port = free_port()
    env = server_env(port, workdir, args)
    release(tree, env)
    log = workdir / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["sh", "-c", "exec " + procfile(tree)["web"]],
            cwd=tree,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    results = {}
    try:
        wait_until_up(base, server, log)
        chosen = scenarios(base)
        # No scenario measures a worker's preview index being built (at its start, or
        # by its first preview): a preview is answered without a slow one first.
        check(base, "preview_get", chosen["preview_get"])
        warm_up(wrk, base, chosen["preview_get"], args, workdir)
        if args.only:
            chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
        for name, scenario in chosen.items():
            check(base, name, scenario)
            warm_up(wrk, base, scenario, args, workdir)
            cpu_before = server_cpu_seconds(server.pid)
            found = run_wrk(wrk, base, scenario, args, args.duration, workdir)
            cpu = server_cpu_seconds(server.pid) - cpu_before
            requests = found["rps"] * args.duration
            found["server_cpu_ms"] = round(1000 * cpu / requests, 3) if requests else None
            results[name] = found
            errors = found["non_2xx"] + found["socket_errors"]
            print(
                f"{name:13} {found['rps']:8.1f} req/s   p50 {found['p50_ms']:6.2f} ms   "
                f"p99 {found['p99_ms']:6.2f} ms   max {found['max_ms']:6.1f} ms   "
                f"workers' CPU {found['server_cpu_ms']:.2f} ms/request"
                + (f"   {errors} errors" if errors else ""),
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    database = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    print(
        json.dumps(
            {
                "tree": str(tree),
                "web": procfile(tree)["web"],
                "workers": int(env.get("WEB_CONCURRENCY", 0)) or "Procfile default",
                "web_threads": int(env.get("WEB_THREADS", 0)) or "Procfile default",
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "connections": args.connections,
                "threads": args.threads,
                "duration_s": args.duration,
                "database": database,
                "cache": "redis" if "REDIS_URL" in env else "file",
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
