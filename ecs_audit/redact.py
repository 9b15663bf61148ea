"""Keep secret values out of the inventory, and everything derived from it.

Values of container environment variables are classified here and then dropped: the inventory keeps
the variable's name and a few flags (e.g. "looks like an AWS access key id"), never the value. The same
goes for log-driver options with secret-looking keys and for credentials embedded in free text such as
health-check commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

REDACTED = "<redacted>"

# Words that make an environment variable (or option) name look like it holds a secret.
_SECRET_WORDS = re.compile(
    r"(passw(or)?d|passwd|\bpwd\b|_pwd$|^pwd_|secret|token|api[_-]?key|apikey|private[_-]?key|"
    r"credential|auth[_-]?data|access[_-]?key|client[_-]?key|signing[_-]?key|encryption[_-]?key|"
    r"session[_-]?key|conn(ection)?[_-]?string|dsn$|(^|_)pass($|_)|_key$|passphrase|(^|_)pw($|_)|htpasswd|basic[_-]?auth)",
    re.IGNORECASE,
)
# Key names that are not secret material: public keys (JWT_PUBLIC_KEY, Stripe's publishable key) and
# data keys (a DynamoDB partition or sort key, an S3 object key). Not "primary", "cache" or "routing": Azure's
# primary key and Redis cache key are access keys, a PagerDuty routing key sends alerts.
_NOT_SECRET_KEY = re.compile(
    r"(public|publishable|partition|sort|range|object|shard|idempotency|dedup(lication)?)[_-]?key$",
    re.IGNORECASE,
)
# Names that always count, whatever the heuristics below say.
_ALWAYS_SECRET = {"AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "ECS_ENGINE_AUTH_DATA"}
# Suffixes that name a pointer to a secret (its ARN, path, file...) rather than the secret itself.
_REFERENCE_SUFFIX = re.compile(
    r"[_-](ARN|ARNS|FILE|PATH|URL|URI|ENDPOINT|HOST|PORT|NAME|REGION|TTL|TIMEOUT|LENGTH|EXPIRY|"
    r"EXPIRATION|ENABLED|HEADER|TYPE|ID|IDS|PARAM|PARAMETER|LOCATION|VERSION|AUDIENCE|ISSUER|ALGORITHM|POLICY|PREFIX|SCOPE|SCOPES|USER|USERNAME|REALM)$",
    re.IGNORECASE,
)

_AWS_ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b")
_AWS_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
# user:password@ in a URL; the user may be empty (redis://:password@host, Redis AUTH without ACL users).
_URL_CREDENTIALS = re.compile(r"([a-z][a-z0-9+.-]*://)([^/\s:@]*):([^/\s@]+)@", re.IGNORECASE)
# A password inside a connection string or query (ADO.NET "Password=...;", JDBC "?password=..."),
# unless it is a placeholder for a variable ($VAR, ${VAR}, {{var}}).
_INLINE_PASSWORD = re.compile(
    r"(?:^|[;?&,\s])(?:password|pwd)\s*=\s*(?![$%{]|;|&|,|$)"
    r"|\"(?:password|passwd|secret|client_secret|api_key|apikey|token)\"\s*:\s*\"(?![$%{]|\")",  # JSON: {"password": "..."}
    re.IGNORECASE,
)
# Token formats that are secret wherever they appear: GitHub, GitLab, Slack, Stripe secret keys, Google API keys.
_KNOWN_TOKEN = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20}|xox[abprs]-[A-Za-z0-9-]{10,}|"
    r"[sr]k_live_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35})\b"
)
# An absolute file path: where a secret is kept (GOOGLE_APPLICATION_CREDENTIALS=/secrets/sa.json), not the secret.
# Slashes alone prove nothing (AWS secret keys contain them, "/p4ss/w0rd" is a password): a path must end in a
# file extension or start at a directory where files live.
_FILE_PATH = re.compile(r"^(/[\w.@-]+)+/?$")
_FILE_EXTENSION = re.compile(r"/[\w@-][\w.@-]*\.[A-Za-z][A-Za-z0-9]{0,5}$")
_FILE_DIRECTORY = re.compile(
    r"^/(run|etc|var|opt|app|secrets?|mnt|tmp|usr|home|srv|root|data|config|certs?|vault)(/|$)"
)
_SECRET_REF = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm|kms):", re.IGNORECASE)
_CLI_USER_PASSWORD = re.compile(r"((?:^|\s)(?:-u|--user)[ =])([^:\s]+):(\S+)")
# `password=...` in commands and options. A quoted key ({"password": "a, b}"}) takes the whole quoted value
# (or a bare JSON scalar); an unquoted key (--password=abc,def) takes everything up to whitespace, so that
# no comma, quote or brace leaves part of the secret behind.
_SECRET_KEY_WORD = r"(?:passw(?:or)?d|secret|token|api[_-]?key|apikey)"
_INLINE_ASSIGNMENT = re.compile(
    rf"(?P<qkey>{_SECRET_KEY_WORD}[\"']\s*[=:]\s*)(?P<qvalue>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,}}\]]+)"
    rf"|(?P<key>{_SECRET_KEY_WORD}\s*[=:]\s*)(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\S+)",
    re.IGNORECASE,
)


def _redact_assignment(match: re.Match[str]) -> str:
    key = match.group("qkey") or match.group("key")
    value = match.group("qvalue") or match.group("value")
    quote = value[0] if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0] else ""
    return f"{key}{quote}{REDACTED}{quote}"

# Value flags stored in the inventory (the only trace a value leaves).
FLAG_EMPTY = "empty"
FLAG_SECRET_REFERENCE = "secret_reference"
FLAG_AWS_ACCESS_KEY_ID = "aws_access_key_id"
FLAG_AWS_SECRET_KEY = "aws_secret_access_key"
FLAG_PRIVATE_KEY = "private_key"
FLAG_JWT = "jwt"
FLAG_URL_CREDENTIALS = "url_with_credentials"
FLAG_INLINE_PASSWORD = "embedded_password"
FLAG_KNOWN_TOKEN = "known_token_format"
FLAG_FILE_PATH = "file_path"
# Values that cannot be a secret whatever the name says: switches, numbers, durations
# (USE_SECRETS_MANAGER=true, TOKEN_TTL_SECONDS=3600, SESSION_TIMEOUT=15m).
FLAG_BOOLEAN = "boolean"
FLAG_NUMBER = "number"
FLAG_DURATION = "duration"
VALUE_FLAGS_NOT_SECRET = frozenset({FLAG_BOOLEAN, FLAG_NUMBER, FLAG_DURATION})
_BOOLEAN = re.compile(r"^(true|false|yes|no|on|off|enabled|disabled)$", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_DURATION = re.compile(r"^\d+(\.\d+)?\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hours?|d|days?|w|weeks?)$", re.IGNORECASE)

VALUE_FLAGS_THAT_ARE_SECRETS = frozenset(
    {FLAG_AWS_ACCESS_KEY_ID, FLAG_AWS_SECRET_KEY, FLAG_PRIVATE_KEY, FLAG_JWT, FLAG_URL_CREDENTIALS, FLAG_INLINE_PASSWORD, FLAG_KNOWN_TOKEN}
)


# Names whose value is the password itself (not a policy or a length): a number there is a numeric password.
_PASSWORD_NAME = re.compile(r"(passw(or)?d|passwd|pass|pwd|pw|pin|passphrase)$", re.IGNORECASE)


def name_is_password(name: str) -> bool:
    return bool(_PASSWORD_NAME.search(name)) and name_looks_secret(name)


def name_is_always_secret(name: str) -> bool:
    """Names whose value is the secret itself whatever it looks like (AWS_SECRET_ACCESS_KEY, DB_PASSWORD):
    a path there is no pointer. Pointer names say so (DB_PASSWORD_FILE) and do not look secret at all."""
    return name.upper() in _ALWAYS_SECRET or name_is_password(name)


def name_looks_secret(name: str) -> bool:
    """True when a variable or option name suggests it holds a secret value."""
    if name.upper() in _ALWAYS_SECRET:
        return True
    if _REFERENCE_SUFFIX.search(name) or _NOT_SECRET_KEY.search(name):
        return False
    return bool(_SECRET_WORDS.search(name))


def name_allowed(name: str, allowlist: Iterable[str]) -> bool:
    """True when a variable name is on the allow-list: each entry is an exact name or a glob pattern
    (`FEATURE_*_TOKEN_TTL`, `?` and `[...]` too). Case-sensitive, as environment variable names are:
    an allow-list only ever silences findings, so it matches no more than it says."""
    return any(fnmatchcase(name, entry) for entry in allowlist)


def classify_value(value: str | None) -> list[str]:
    """Flags describing a value without keeping it."""
    if value is None or value.strip() == "":
        return [FLAG_EMPTY]
    flags: list[str] = []
    stripped = value.strip()
    if _BOOLEAN.match(stripped):
        return [FLAG_BOOLEAN]
    if _NUMBER.match(stripped) and len(stripped) <= 12:
        return [FLAG_NUMBER]  # a long digit run could be a PIN-like secret: not excused
    if _DURATION.match(stripped):
        return [FLAG_DURATION]
    if _SECRET_REF.match(stripped):
        flags.append(FLAG_SECRET_REFERENCE)
    if _AWS_ACCESS_KEY_ID.search(value):
        flags.append(FLAG_AWS_ACCESS_KEY_ID)
    # A 40-character base64 run is how an AWS secret access key looks; require mixed character
    # classes so that hex digests and plain words do not match.
    for match in _AWS_SECRET_KEY.finditer(value):
        token = match.group(0)
        if re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"[0-9/+]", token):
            flags.append(FLAG_AWS_SECRET_KEY)
            break
    if _PRIVATE_KEY.search(value):
        flags.append(FLAG_PRIVATE_KEY)
    if _JWT.search(value):
        flags.append(FLAG_JWT)
    if _URL_CREDENTIALS.search(value):
        flags.append(FLAG_URL_CREDENTIALS)
    if _INLINE_PASSWORD.search(value):
        flags.append(FLAG_INLINE_PASSWORD)
    if _KNOWN_TOKEN.search(value):
        flags.append(FLAG_KNOWN_TOKEN)
    if not flags and _is_file_path(stripped):
        flags.append(FLAG_FILE_PATH)
    return flags


def _is_file_path(value: str) -> bool:
    return bool(_FILE_PATH.match(value)) and bool(_FILE_EXTENSION.search(value) or _FILE_DIRECTORY.match(value))


def value_is_secret(value: str | None) -> bool:
    """True when the value itself looks like secret material (an AWS key, a private key...)."""
    return bool(set(classify_value(value)) & VALUE_FLAGS_THAT_ARE_SECRETS)


def scrub_text(text: str) -> str:
    """Remove credential-looking material from free text (commands, URLs), keeping the rest readable."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:{REDACTED}@", text)
    text = _AWS_ACCESS_KEY_ID.sub(REDACTED, text)
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    text = _KNOWN_TOKEN.sub(REDACTED, text)
    text = _CLI_USER_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}:{REDACTED}", text)
    text = _INLINE_ASSIGNMENT.sub(_redact_assignment, text)
    return text


def redact_options(options: dict[str, str] | None) -> dict[str, str]:
    """Log-driver style options: keep keys, drop values whose key looks secret, scrub the rest."""
    if not options:
        return {}
    out: dict[str, str] = {}
    for key, value in options.items():
        if name_looks_secret(key) or value_is_secret(str(value)):
            out[key] = REDACTED
        else:
            out[key] = scrub_text(str(value))
    return out


# Docker volume driver options: only these keys are kept, and inside `o` only the option names. Mount
# options carry credentials in many spellings (CIFS pass=, password=, user=bob%pw, credentials=...).
_DRIVER_OPTS_KEPT = ("type", "device")
_MOUNT_OPTION_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
# `type` (none, cifs, nfs...) and `device` (a host path, //server/share, server:/export) are what checks need.
_DRIVER_TYPE = re.compile(r"^[a-z0-9_.-]{1,32}$", re.IGNORECASE)
_DEVICE = re.compile(r"^[\w./:\\ -]{1,4096}$")


def _mount_options(value: str) -> str:
    """`o` of the local driver: option names kept (bind, rbind, ro, vers), every `k=v` value redacted,
    and anything that does not look like an option name (a bare password) redacted whole."""
    names: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, _ = item.partition("=")
        name = name.strip()
        if not _MOUNT_OPTION_NAME.match(name):
            names.append(REDACTED)
        else:
            names.append(f"{name}={REDACTED}" if sep else name)
    return ",".join(names)


def redact_driver_opts(options: dict[str, str] | None) -> dict[str, str]:
    """Docker volume driver options: keep `type`, `device` and the option names in `o`; every other value
    is redacted, since a driver option can be a secret whatever its key (CIFS user%password, pass=...)."""
    if not options:
        return {}
    out: dict[str, str] = {}
    for key, raw in options.items():
        value = str(raw)
        lower = key.lower()
        if lower == "o":
            out[key] = _mount_options(value)
        elif lower == "type" and _DRIVER_TYPE.match(value):
            out[key] = value
        elif lower == "device" and _DEVICE.match(value) and "@" not in value and not value_is_secret(value):
            out[key] = value
        else:
            out[key] = REDACTED
    return out
