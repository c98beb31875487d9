"""Signing keys: ed25519 key pairs that are the identity of every signed action.

A key lives in the user's config directory (`$XDG_CONFIG_HOME/llmpipe/keys/`,
else `~/.config/llmpipe/keys/`) as `<name>.key` (PKCS#8 PEM, mode 0600,
optionally passphrase-encrypted) beside `<name>.pub` (the public key as
`ed25519:<base64>`). `LLMPIPE_KEY_FILE` points at another private key (a CI
job's own key); `LLMPIPE_KEY_PASSPHRASE` unlocks an encrypted one.

A public key is written `ed25519:<base64 of the 32 raw bytes>`; its
fingerprint is `SHA256:<base64 of sha256(raw bytes), unpadded>`, the form
ssh uses. `cryptography` is imported only inside the functions that need it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CryptoError

KEY_FILE_ENV = "LLMPIPE_KEY_FILE"
PASSPHRASE_ENV = "LLMPIPE_KEY_PASSPHRASE"
DEFAULT_NAME = "default"
_PREFIX = "ed25519:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

PassphraseSource = Callable[[], "str | None"]


def keys_dir() -> str:
    """The directory holding the user's keys (not created here)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "llmpipe", "keys")


def fingerprint(public_key: str) -> str:
    """`SHA256:<base64>` of a public key given as `ed25519:<base64>`."""
    digest = hashlib.sha256(public_key_bytes(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def public_key_bytes(public_key: str) -> bytes:
    """The 32 raw bytes of `ed25519:<base64>`; CryptoError if malformed."""
    text = public_key.strip()
    if not text.startswith(_PREFIX):
        raise CryptoError(f"'{public_key}' is not an llmpipe public key (ed25519:<base64>)")
    try:
        raw = base64.b64decode(text[len(_PREFIX) :], validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise CryptoError(f"'{public_key}' is not a valid ed25519 public key (32 bytes)")
    return raw


def format_public_key(raw: bytes) -> str:
    return _PREFIX + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key: signs bytes; `public_key`/`fingerprint` identify it."""

    name: str
    path: str
    public_key: str
    _private: Any  # cryptography's Ed25519PrivateKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> str:
        """Base64 ed25519 signature of `data`."""
        return base64.b64encode(self._private.sign(data)).decode("ascii")


def verify_signature(public_key: str, data: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `public_key`'s signature of `data`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw_sig = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key_bytes(public_key)).verify(raw_sig, data)
    except (InvalidSignature, ValueError, TypeError, CryptoError):
        return False
    return True


def key_paths(name: str) -> tuple[str, str]:
    """(private, public) paths of the named key in the keys directory."""
    if not _NAME.match(name):
        raise CryptoError(f"'{name}' is not a valid key name: use letters, digits, '.', '_' or '-'")
    directory = keys_dir()
    return os.path.join(directory, f"{name}.key"), os.path.join(directory, f"{name}.pub")


def generate_key(name: str = DEFAULT_NAME, passphrase: str | None = None) -> SigningKey:
    """Create the named key pair; refuses to overwrite an existing key.

    The keys directory is made 0700 and the private key 0600 before any byte
    of it is written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path, public_path = key_paths(name)
    if os.path.exists(private_path):
        raise CryptoError(
            f"a key named '{name}' already exists at {private_path}; choose another --name"
        )
    _make_private_dir(os.path.dirname(private_path))
    private = Ed25519PrivateKey.generate()
    encryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    _write_private(private_path, pem)
    public = format_public_key(_raw_public(private))
    _write_new(public_path, (public + "\n").encode("ascii"), 0o644)
    return SigningKey(name, private_path, public, private)


def _make_private_dir(directory: str) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)


def _write_private(path: str, data: bytes) -> None:
    _write_new(path, data, 0o600)


def _write_new(path: str, data: bytes, mode: int) -> None:
    # O_EXCL: never clobber a key; the mode applies from creation, so the
    # private bytes are never readable by others, even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, mode)


def _raw_public(private: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def current_key_path() -> str:
    """The private key in use: `$LLMPIPE_KEY_FILE`, else the selected or default one."""
    chosen = os.environ.get(KEY_FILE_ENV)
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    return key_paths(selected_name())[0]


def selected_name() -> str:
    """The key chosen with `llmpipe keys use` (default: 'default')."""
    try:
        with open(os.path.join(keys_dir(), "current"), encoding="utf-8") as handle:
            name = handle.read().strip()
    except OSError:
        return DEFAULT_NAME
    return name or DEFAULT_NAME


def select_key(name: str) -> str:
    """Make `name` the key used from now on; returns its private key path."""
    private_path, _ = key_paths(name)
    if not os.path.exists(private_path):
        raise CryptoError(f"no key named '{name}' in {keys_dir()}: run 'llmpipe keys list'")
    from ..fsutil import atomic_write_text

    atomic_write_text(os.path.join(keys_dir(), "current"), name + "\n", 0o600)
    return private_path


def has_key() -> bool:
    """Whether a private key is available (without loading or decrypting it)."""
    return os.path.isfile(current_key_path())


def list_keys() -> list[tuple[str, str]]:
    """(name, public key) of every key pair in the keys directory, sorted by name."""
    directory = keys_dir()
    if not os.path.isdir(directory):
        return []
    found = []
    for entry in sorted(os.listdir(directory)):
        if entry.endswith(".key"):
            name = entry[: -len(".key")]
            found.append((name, read_public_key(os.path.join(directory, entry))))
    return found


def read_public_key(private_path: str) -> str:
    """The public key of a private key file, for display.

    Derived from the private key whenever it is not passphrase-protected:
    the `.pub` neighbour is only a convenience copy that anyone can
    overwrite, so it is read only for an encrypted key (whose public half
    needs the passphrase). Decisions about who you are use `load_key`.
    """
    if not _is_encrypted(private_path):
        return load_key(private_path).public_key
    public_path = private_path[: -len(".key")] + ".pub" if private_path.endswith(".key") else ""
    if public_path and os.path.isfile(public_path):
        with open(public_path, encoding="ascii") as handle:
            text = handle.read().strip()
        public_key_bytes(text)
        return text
    return load_key(private_path).public_key


def _is_encrypted(private_path: str) -> bool:
    return b"ENCRYPTED" in _read_key_file(private_path).split(b"\n", 1)[0]


def load_key(path: str | None = None, passphrase: PassphraseSource | None = None) -> SigningKey:
    """Load the private key at `path` (default: the current one).

    `passphrase` is asked only for an encrypted key, after `$LLMPIPE_KEY_PASSPHRASE`.
    Raises CryptoError when the key is missing, unreadable or the passphrase wrong.
    """
    path = path or current_key_path()
    pem = _read_key_file(path)
    encrypted = b"ENCRYPTED" in pem.split(b"\n", 1)[0]
    secret = _passphrase_for(path, passphrase) if encrypted else None
    private = _parse_private(path, pem, secret)
    name = os.path.basename(path)
    name = name[: -len(".key")] if name.endswith(".key") else name
    return SigningKey(name, path, format_public_key(_raw_public(private)), private)


def _read_key_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise CryptoError(
            f"no signing key at {path}: run 'llmpipe keys generate' "
            f"(or point {KEY_FILE_ENV} at an existing key)"
        ) from None
    except OSError as exc:
        raise CryptoError(f"cannot read the signing key {path}: {exc.strerror}") from None


def _passphrase_for(path: str, source: PassphraseSource | None) -> bytes:
    secret = os.environ.get(PASSPHRASE_ENV)
    if secret is None and source is not None:
        secret = source()
    if not secret:
        raise CryptoError(
            f"the key {path} is passphrase-protected: set {PASSPHRASE_ENV} or run interactively"
        )
    return secret.encode("utf-8")


def _parse_private(path: str, pem: bytes, secret: bytes | None) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError) as exc:
        hint = "wrong passphrase?" if secret else "is it a PEM private key?"
        raise CryptoError(f"cannot load the signing key {path} ({hint}): {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise CryptoError(f"the key {path} is not an ed25519 key; create one with 'keys generate'")
    return private
