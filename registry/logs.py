"""One log format for the web app, the CLI and gunicorn: a JSON object a line (LOG_FORMAT=json, the default)
or the same fields as key=value (LOG_FORMAT=text).

Every line carries time (UTC, ISO 8601), level, logger, process id and message; lines written while a
request is served carry its request id, and each request ends with one line holding method, path,
status and duration. The request id is the client's (or proxy's) X-Request-ID when it is a sane token,
otherwise a new one; it is returned in the X-Request-ID response header so a user can quote it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
# Fields a record may carry beyond the standard ones (passed with `extra=`), in the order they are written.
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "remote_addr", "user_agent")
request_log = logging.getLogger("registry.request")


def _utc_time(record: logging.LogRecord) -> str:
    stamp = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_fields(record: logging.LogRecord) -> dict:
    """The fields one line shows, whichever format writes them."""
    fields: dict = {"time": _utc_time(record), "level": record.levelname, "logger": record.name,
                    "pid": record.process}
    if record.name == "gunicorn.access" and isinstance(record.args, dict):
        fields.update(_gunicorn_access_fields(record.args))
    else:
        fields["message"] = record.getMessage()
    for name in FIELDS:
        value = getattr(record, name, None)
        if value is not None and name not in fields:
            fields[name] = value
    if record.exc_info:
        fields["exception"] = logging.Formatter().formatException(record.exc_info)
    return fields


def _gunicorn_access_fields(atoms: dict) -> dict:
    """Gunicorn hands its access-log atoms as the record's args: map them onto our field names."""
    def atom(key):
        try:
            value = atoms[key]  # gunicorn's atoms answer "-" for what is missing
        except KeyError:
            return None
        return None if value in (None, "-") else value

    fields = {"message": "access", "method": atom("m"), "path": atom("U"), "status": _int_or_none(atom("s")),
              "remote_addr": atom("h"), "user_agent": atom("a")}
    if atom("D") is not None:
        fields["duration_ms"] = round(int(atom("D")) / 1000, 1)
    request_id = atom("{x-request-id}o") or atom("{x-request-id}i")
    if request_id:
        fields["request_id"] = request_id
    return fields


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), ensure_ascii=False, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_kv(value)}" for key, value in record_fields(record).items())


def _kv(value) -> str:
    text = str(value)
    if text and not any(ch in text for ch in ' "=\n\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Stamps the current request's id on every record written while it is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def formatter_for(name: str) -> logging.Formatter:
    return KeyValueFormatter() if str(name).strip().lower() in ("text", "kv", "keyvalue") else JsonFormatter()


def configure_logging(app: Flask) -> None:
    """Send the root logger to stderr in the configured format, once per process (not while pytest captures)."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "registry_handler", False)]
    if root.handlers and not ours:
        return  # somebody (pytest, gunicorn's logconfig_dict using our formatter, an embedding app) configured it
    for handler in ours:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.registry_handler = True
    handler.setFormatter(formatter_for(app.config.get("LOG_FORMAT", "json")))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(str(app.config.get("LOG_LEVEL", "INFO")).upper())


def init_app(app: Flask) -> None:
    """Request ids and one log line per request."""
    configure_logging(app)

    @app.before_request
    def start_request():
        g.request_started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        request_log.info("%s %s %s", request.method, request.path, response.status_code,
                         extra={"request_id": request_id, "method": request.method, "path": request.path,
                                "status": response.status_code, "duration_ms": duration,
                                "remote_addr": request.remote_addr})
        return response
