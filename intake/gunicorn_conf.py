"""gunicorn settings for Intake: `gunicorn -c python:intake.gunicorn_conf 'intake:create_app()'`.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS. Behind a
TLS-terminating proxy set INTAKE_TRUSTED_PROXIES (the app's ProxyFix) and FORWARDED_ALLOW_IPS.
Web workers never render PDFs (workers of `flask --app app worker` do), so sync workers with a
few threads are enough; no request runs longer than `timeout` (big exports are jobs).
"""

from __future__ import annotations

import multiprocessing
import os

from gunicorn.glogging import Logger

from intake import redact

bind = os.environ.get("INTAKE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("INTAKE_THREADS", 2))
worker_class = "gthread"
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then; jitter spreads the restarts
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
# The proxy in front (nginx, Caddy) is on this host; list its address if it is not.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("INTAKE_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("INTAKE_LOG_LEVEL", "info")
# No query strings (%(U)s is the path only) and no cookies; the logger class redacts tokens anyway.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
# No runtime control socket: one shared path in $HOME for every instance, and a surface nobody here needs.
control_socket_disable = True


class RedactingLogger(Logger):
    """gunicorn's logger, with every access-log atom and every final message redacted (intake.redact)."""

    def atoms(self, resp, req, environ, request_time):
        found = super().atoms(resp, req, environ, request_time)
        return {key: redact.text(value) if isinstance(value, str) else value for key, value in found.items()}

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(redact.RedactingFilter())
            for handler in log.handlers:
                handler.addFilter(redact.RedactingFilter())


logger_class = RedactingLogger
