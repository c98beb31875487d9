"""Which options dvc's schema allows on a remote, by the scheme of its URL.

dvc validates the whole config after every edit and refuses a remote option
its schema lacks for that kind of remote ("extra keys not allowed"), or a value
of the wrong type ("expected int"). `remote modify` checks the same before
writing anything, so llmpipe never leaves a config that dvc refuses. llmpipe's
own keys (`encrypt`, …) are not checked here: they live in `.llmpipe/config`.
"""

from __future__ import annotations

from urllib.parse import urlparse

_BOOL = "true or false"
_INT = "an integer"
_POSITIVE = "an integer of 1 or more"
_NUMBER = "a number of 0 or more"

_COMMON = {
    "url": None,
    "checksum_jobs": _POSITIVE,
    "jobs": _POSITIVE,
    "worktree": _BOOL,
    "no_traverse": _BOOL,
    "version_aware": _BOOL,
}
_LOCAL = {"type": None, "protected": _BOOL, "shared": None, "slow_link_warning": _BOOL}
_HTTP = {
    **dict.fromkeys(("auth", "custom_auth_header", "user", "password", "method")),
    "ask_password": _BOOL,
    "ssl_verify": None,
    "connect_timeout": _NUMBER,
    "read_timeout": _NUMBER,
}
_WEBDAV = {
    **dict.fromkeys(("user", "password", "token", "bearer_token_command")),
    **dict.fromkeys(("custom_auth_header", "cert_path", "key_path", "ssl_verify")),
    "ask_password": _BOOL,
    "timeout": _INT,
}
_S3 = {
    **dict.fromkeys(("region", "profile", "credentialpath", "configpath", "endpointurl")),
    **dict.fromkeys(("access_key_id", "secret_access_key", "session_token", "ssl_verify")),
    **dict.fromkeys(("sse", "sse_kms_key_id", "sse_customer_algorithm", "sse_customer_key")),
    **dict.fromkeys(("acl", "grant_read", "grant_read_acp", "grant_write_acp")),
    "grant_full_control": None,
    **dict.fromkeys(("listobjects", "use_ssl", "allow_anonymous_login", "cache_regions"), _BOOL),
    "read_timeout": _INT,
    "connect_timeout": _INT,
}
_SSH = {
    **dict.fromkeys(("type", "user", "password", "passphrase", "keyfile")),
    **dict.fromkeys(("ask_password", "ask_passphrase", "gss_auth", "allow_agent"), _BOOL),
    **dict.fromkeys(("port", "timeout", "max_sessions"), _INT),
}
_AZURE = {
    **dict.fromkeys(("connection_string", "sas_token", "account_name", "account_key")),
    **dict.fromkeys(("tenant_id", "client_id", "client_secret")),
    **dict.fromkeys(
        (
            "allow_anonymous_login",
            "exclude_environment_credential",
            "exclude_visual_studio_code_credential",
            "exclude_shared_token_cache_credential",
            "exclude_managed_identity_credential",
        ),
        _BOOL,
    ),
    **dict.fromkeys(("timeout", "read_timeout", "connection_timeout"), _INT),
}
_GDRIVE = {
    **dict.fromkeys(("profile", "gdrive_client_id", "gdrive_client_secret")),
    **dict.fromkeys(("gdrive_user_credentials_file", "gdrive_service_account_user_email")),
    "gdrive_service_account_json_file_path": None,
    **dict.fromkeys(
        ("gdrive_use_service_account", "gdrive_trash_only", "gdrive_acknowledge_abuse"), _BOOL
    ),
}
# {scheme: {option: the kind of value it takes (None: any text)}}; "" is a local folder.
_BY_SCHEME: dict[str, dict[str, str | None]] = {
    "": {**_LOCAL, **_COMMON, "verify": _BOOL},
    "s3": {**_S3, **_COMMON, "verify": _BOOL},
    "gs": {
        **dict.fromkeys(("projectname", "credentialpath", "endpointurl")),
        "allow_anonymous_login": _BOOL,
        **_COMMON,
        "verify": _BOOL,
    },
    "ssh": {**_SSH, **_COMMON, "verify": _BOOL},
    "hdfs": {"user": None, "kerb_ticket": None, "replication": _INT, **_COMMON},
    "webhdfs": {
        **dict.fromkeys(("kerberos_principal", "proxy_to", "ssl_verify", "token", "user")),
        **dict.fromkeys(("password", "data_proxy_target")),
        **dict.fromkeys(("kerberos", "use_https"), _BOOL),
        **_COMMON,
        "verify": _BOOL,
    },
    "azure": {**_AZURE, **_COMMON, "verify": _BOOL},
    "oss": {
        **dict.fromkeys(("oss_key_id", "oss_key_secret", "oss_endpoint")),
        **_COMMON,
        "verify": _BOOL,
    },  # fmt: skip
    "gdrive": {**_GDRIVE, **_COMMON, "verify": _BOOL},
    "http": {**_HTTP, **_COMMON, "verify": _BOOL},
    "https": {**_HTTP, **_COMMON, "verify": _BOOL},
    "webdav": {**_WEBDAV, **_COMMON, "verify": _BOOL},
    "webdavs": {**_WEBDAV, **_COMMON, "verify": _BOOL},
}


def remote_option_problem(url: str, key: str, value: str | None) -> str | None:
    """Why dvc would refuse option `key` = `value` on a remote at `url`; None if it would not.

    `value` None asks about the key alone. A scheme dvc does not know (one only
    llmpipe reads) is not checked.
    """
    parsed = urlparse(url)
    scheme = parsed.scheme if parsed.netloc else ""
    known = _BY_SCHEME.get(scheme)
    if known is None:
        return None
    kind = f"{scheme}://" if scheme else "local"
    if key not in known:
        return f"'{key}' is not an option of {kind} remotes (dvc: extra keys not allowed)"
    expected = known[key]
    if value is None or expected is None or _fits(value, expected):
        return None
    return f"'{key}' must be {expected}, not '{value}'"


def _fits(value: str, expected: str) -> bool:
    if expected == _BOOL:
        return value.lower() in ("true", "false")
    try:
        number = float(value) if expected == _NUMBER else int(value)
    except ValueError:
        return False
    return number >= (1 if expected == _POSITIVE else 0) or expected == _INT
