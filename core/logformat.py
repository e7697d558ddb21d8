"""Structured logs for production: one JSON object per line, easy to ship and query."""

import datetime as dt
import json
import logging

# Attributes every LogRecord has; anything else was passed through `extra=` and is worth keeping.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


# gunicorn passes its access-log atoms as the record's args: keep the useful ones as fields. No query
# string (it may carry a searched name) and no user agent.
_ACCESS_FIELDS = {"remote": "h", "method": "m", "path": "U", "status": "s", "bytes": "B", "duration_ms": "M"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if hasattr(value, "method") and hasattr(value, "path"):
                # Django passes the request: its method and path only, never the query string.
                value = f"{value.method} {value.path}"
            entry[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update({field: record.args.get(atom) for field, atom in _ACCESS_FIELDS.items()})
            if str(entry["status"]).isdigit():
                entry["status"] = int(entry["status"])
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
