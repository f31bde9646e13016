"""Gunicorn settings for the registry: `gunicorn -c deploy/gunicorn.conf.py` (the app is named below).

Environment: REGISTRY_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers, default 4), LOG_FORMAT
(json or text, as the app). The access log is on and written in the app's own format, one line a request,
with the request id the app returns in X-Request-ID.
"""
import os

wsgi_app = "registry:create_app()"
bind = os.environ.get("REGISTRY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Long enough for a bulk check of many bidders; a hung worker is replaced after this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, staggered, so none grows without bound.
max_requests = 2000
max_requests_jitter = 200

# Gunicorn 25+ opens a control socket in $HOME by default: one per host would collide between instances.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
_formatter = ("registry.logs.KeyValueFormatter" if os.environ.get("LOG_FORMAT", "json").lower() in ("text", "kv")
              else "registry.logs.JsonFormatter")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    # The app installs its own handler on the root logger (registry.logs); gunicorn's go to the same streams.
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "registry", "stream": "ext://sys.stderr"},
        "stdout": {"class": "logging.StreamHandler", "formatter": "registry", "stream": "ext://sys.stdout"},
    },
    "formatters": {"registry": {"()": _formatter}},
}
