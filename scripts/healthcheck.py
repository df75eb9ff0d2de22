"""Docker HEALTHCHECK: GET /health on this container's web port; exit 0 when it answers 200, 1 otherwise.

Sends the first ALLOWED_HOSTS entry as Host, so Django accepts the probe; /health is exempt from the HTTPS
redirect (bridge/settings.py), so plain http inside the container is enough. Standard library only."""
import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    first_host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    host = "localhost" if first_host in ("", "*") else first_host
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "5"))) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"health check failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
