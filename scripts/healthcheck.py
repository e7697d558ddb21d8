"""Container health checks (docker-compose.yml), using the same checks as /healthz.

  python scripts/healthcheck.py web            # gunicorn answers /healthz and reaches the database
  python scripts/healthcheck.py queue celery   # a worker of that queue ran a heartbeat recently
"""

import json
import os
import sys
import urllib.request
from pathlib import Path


def web() -> bool:
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip()
    port = os.environ.get("BIND", "0.0.0.0:8000").rsplit(":", 1)[1]  # the address scripts/web binds
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - fixed loopback URL
            body = json.load(response)
    except urllib.error.HTTPError as exc:  # 503 still carries the checks: web itself may be fine
        body = json.load(exc)
    return body["checks"]["database"] == "ok"


def queue(name: str) -> bool:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()
    from core.health import check_redis_and_workers

    status, workers = check_redis_and_workers()
    return status == "ok" and workers[name]["status"] == "ok"


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "web"
    try:
        healthy = web() if kind == "web" else queue(sys.argv[2])
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy", with the reason on stderr
        print(f"unhealthy: {exc!r}", file=sys.stderr)
        healthy = False
    sys.exit(0 if healthy else 1)
