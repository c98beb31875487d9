"""Client-side encryption of remote objects: AES-256-GCM in chunks, keyed object names.

A remote's format is set by its key-check object (`llmpipe-encrypted/keycheck`),
and every client writes that format to it, so older clients keep reading a remote
they share. New remotes get format 2:

- Master key: 64 hex digits are the 32-byte key itself; any other text is a
  passphrase, stretched with scrypt (N=2^17, r=8, p=1, a random 16-byte salt). The
  KDF and its parameters are stored in the key check, so every client derives the
  same master key, and the key check carries an HMAC that recognises a wrong key.
- Subkeys: HKDF-SHA256 of the master key with distinct `info` strings (object
  names, key check). Object names are HMAC-SHA256(name key, hash), so the remote
  learns neither contents nor hashes.
- Objects: `LLMPENC2`, a random 32-byte salt, then 1 MiB chunks sealed with
  AES-256-GCM under the object's own key, HKDF(master, salt, info naming the
  object's hash). The nonce is the chunk index (11 bytes) and a last-chunk flag
  (1 byte), as in age's STREAM: within one key a nonce never repeats, and no two
  objects share a key, so nonce reuse is impossible by construction. A chunk
  cannot be modified, reordered, dropped, truncated away or moved to another object.

Format 1 (remotes made before; `LLMPENC1` objects, a sealed key check): the raw
key text is the master; one HMAC each gives the data key and the name key; a
random 8-byte prefix per object plus the chunk index is the nonce, and the
object's hash, the index and the last flag are associated data. It stays
readable and writable for those remotes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import CryptoError

if TYPE_CHECKING:
    from ..config import RemoteConfig

MAGIC = b"LLMPENC1"  # format 1 objects (and format 1 key checks)
MAGIC_V2 = b"LLMPENC2"
KEYCHECK_MAGIC_V2 = b"LLMPKEY2"
CHUNK = 1 << 20
TAG = 16
_PREFIX = 8
_OBJECT_SALT = 32
KEY_ENV = "LLMPIPE_REMOTE_KEY"
_MIN_KEY_BYTES = 16
_CHECK_TEXT = b"llmpipe remote key check v1"

# scrypt for passphrases: 2^17 x 128 x r bytes = 128 MiB, ~0.3 s on one core.
SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 17, 8, 1
_KDF_SALT = 16
# What a key check may ask for: a remote's writer must not make clients allocate
# gigabytes (1 GiB at most) or spend minutes.
_LIMITS = {"log_n": (14, 20), "r": (1, 16), "p": (1, 4)}
_MAX_SCRYPT_MEMORY = 1 << 30

_INFO_NAMES = b"llmpipe remote v2 names"
_INFO_CHECK = b"llmpipe remote v2 key check"
_INFO_OBJECT = b"llmpipe remote v2 object "


# Key material


@dataclass(frozen=True)
class KeyMaterial:
    """The key text of a remote as the user gave it, and where it came from."""

    text: str = field(repr=False)  # a secret: kept out of reprs and tracebacks
    where: str = ""

    @property
    def raw(self) -> bytes | None:
        """The 32-byte key when the text is 64 hex digits, else None (a passphrase)."""
        if len(self.text) != 64:
            return None
        try:
            return bytes.fromhex(self.text)
        except ValueError:
            return None

    def v1_master(self) -> bytes:
        """Format 1's master key: the raw key, or the text's bytes as they are."""
        return self.raw or self.text.encode("utf-8")


def key_env_names(remote_name: str) -> list[str]:
    """Environment variables consulted for a remote's key, most specific first."""
    special = "".join(c if c.isalnum() else "_" for c in remote_name).upper()
    return [f"{KEY_ENV}_{special}", KEY_ENV]


def load_key(remote: RemoteConfig) -> KeyMaterial:
    """The key of `remote`: `key_env` option, LLMPIPE_REMOTE_KEY[_NAME], or `key_file`.

    CryptoError says where a key may come from when none is found or it is too short.
    """
    names = [remote.options["key_env"]] if remote.options.get("key_env") else []
    names += key_env_names(remote.name)
    for name in names:
        if os.environ.get(name):
            return _material(os.environ[name], f"${name}")
    key_file = remote.options.get("key_file")
    if key_file:
        path = os.path.expanduser(key_file)
        try:
            with open(path, encoding="utf-8") as handle:
                return _material(handle.read(), path)
        except OSError as exc:
            raise CryptoError(f"cannot read the key file of remote '{remote.name}': {exc}") from exc
    raise CryptoError(
        f"remote '{remote.name}' is encrypted but no key was found: set {' or '.join(names)}, "
        f"or run 'llmpipe remote modify --local {remote.name} key_file PATH' "
        "(make a key with: python -c 'import secrets; print(secrets.token_hex(32))')"
    )


def _material(text: str, where: str) -> KeyMaterial:
    material = KeyMaterial(text.strip(), where)
    if len(material.v1_master()) < _MIN_KEY_BYTES:
        raise CryptoError(
            f"the key in {where} is too short: use 64 random hex digits, "
            "or a passphrase of at least 16 characters"
        )
    return material


# Ciphers


class Cipher:
    """Seals and opens the objects of one encrypted remote, and names them."""

    version = 0

    def object_name(self, oid: str) -> str:
        """The remote name of object `oid` (64 hex digits)."""
        raise NotImplementedError

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        raise NotImplementedError

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        """Write the plaintext of `src` to `dst`; CryptoError when anything was altered."""
        raise NotImplementedError

    def seal_bytes(self, data: bytes, oid: str) -> bytes:
        out = io.BytesIO()
        self.encrypt_stream(io.BytesIO(data), out, oid)
        return out.getvalue()

    def open_bytes(self, data: bytes, oid: str) -> bytes:
        out = io.BytesIO()
        self.decrypt_stream(io.BytesIO(data), out, oid)
        return out.getvalue()


def _chunks(src: BinaryIO, size: int) -> Iterator[tuple[int, bytes, bool]]:
    """(index, chunk, is_last) over `src`; an empty source is one empty last chunk."""
    index, chunk = 0, src.read(size)
    while True:
        following = src.read(size)
        last = not following
        yield index, chunk, last
        if last:
            return
        chunk, index = following, index + 1


def _opened(aead: Any, nonce: bytes, sealed: bytes, aad: bytes | None, oid: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    try:
        return aead.decrypt(nonce, sealed, aad)
    except InvalidTag as exc:
        raise CryptoError(
            f"object {oid} failed authentication: it was modified on the remote, "
            "or the key is wrong"
        ) from exc


def _read_header(src: BinaryIO, magic: bytes, size: int, oid: str) -> bytes:
    header = src.read(len(magic) + size)
    if len(header) != len(magic) + size or not header.startswith(magic):
        raise CryptoError(
            f"object {oid} on the remote is not an llmpipe-encrypted object of the "
            f"remote's format ({magic.decode()})"
        )
    return header[len(magic) :]


class CipherV2(Cipher):
    """Format 2: HKDF subkeys, a key per object, counter-and-flag nonces."""

    version = 2

    def __init__(self, master: bytes) -> None:
        self._master = master
        self._name_key = _hkdf(master, None, _INFO_NAMES)

    def object_name(self, oid: str) -> str:
        return hmac.new(self._name_key, oid.encode(), hashlib.sha256).hexdigest()

    def _object_aead(self, salt: bytes, oid: str) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(_hkdf(self._master, salt, _INFO_OBJECT + oid.encode()))

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        salt = os.urandom(_OBJECT_SALT)
        aead = self._object_aead(salt, oid)
        dst.write(MAGIC_V2 + salt)
        for index, chunk, last in _chunks(src, CHUNK):
            dst.write(aead.encrypt(_stream_nonce(index, last), chunk, None))

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        aead = self._object_aead(_read_header(src, MAGIC_V2, _OBJECT_SALT, oid), oid)
        for index, sealed, last in _chunks(src, CHUNK + TAG):
            dst.write(_opened(aead, _stream_nonce(index, last), sealed, None, oid))

    def check_mac(self, signed: bytes) -> bytes:
        return hmac.digest(_hkdf(self._master, None, _INFO_CHECK), signed, "sha256")


def _hkdf(master: bytes, salt: bytes | None, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def _stream_nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class CipherV1(Cipher):
    """Format 1, for remotes made before format 2: kept readable and writable."""

    version = 1

    def __init__(self, master: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(hmac.digest(master, b"llmpipe remote data key v1", "sha256"))
        self._name_key = hmac.digest(master, b"llmpipe remote name key v1", "sha256")

    def object_name(self, oid: str) -> str:
        return hmac.new(self._name_key, oid.encode(), hashlib.sha256).hexdigest()

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        prefix = os.urandom(_PREFIX)
        dst.write(MAGIC + prefix)
        for index, chunk, last in _chunks(src, CHUNK):
            nonce, aad = _v1_nonce(prefix, index), _v1_aad(oid, index, last)
            dst.write(self._aead.encrypt(nonce, chunk, aad))

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        prefix = _read_header(src, MAGIC, _PREFIX, oid)
        for index, sealed, last in _chunks(src, CHUNK + TAG):
            nonce, aad = _v1_nonce(prefix, index), _v1_aad(oid, index, last)
            dst.write(_opened(self._aead, nonce, sealed, aad, oid))


def _v1_nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _v1_aad(oid: str, index: int, last: bool) -> bytes:
    return oid.encode() + struct.pack(">IB", index, int(last))


# Key derivation parameters (format 2)


@dataclass(frozen=True)
class KdfParams:
    """How a format 2 remote turns its key text into the master key."""

    kdf: str  # "none": 64 hex digits are the key; "scrypt": a passphrase
    salt: bytes = b""
    log_n: int = SCRYPT_LOG_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    @classmethod
    def fresh(cls, material: KeyMaterial) -> KdfParams:
        """Parameters for a new remote: no KDF for a raw key, scrypt for a passphrase."""
        if material.raw is not None:
            return cls("none")
        return cls("scrypt", os.urandom(_KDF_SALT))

    def to_json(self) -> bytes:
        if self.kdf == "none":
            fields: dict[str, Any] = {"kdf": "none"}
        else:
            fields = {"kdf": "scrypt", "log_n": self.log_n, "p": self.p, "r": self.r}
            fields["salt"] = self.salt.hex()
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def derive(self, material: KeyMaterial, remote_name: str) -> bytes:
        """The master key; CryptoError when a raw-key remote is given a passphrase."""
        if self.kdf == "none":
            if material.raw is None:
                raise CryptoError(
                    f"wrong key for encrypted remote '{remote_name}': it was made with a key "
                    f"of 64 hex digits, and the one in {material.where} is not one"
                )
            return material.raw
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        kdf = Scrypt(salt=self.salt, length=32, n=1 << self.log_n, r=self.r, p=self.p)
        return kdf.derive(material.text.encode("utf-8"))


def _keycheck_error(remote_name: str, fault: str) -> CryptoError:
    return CryptoError(
        f"the key-check object (llmpipe-encrypted/keycheck) of remote '{remote_name}' {fault}: "
        "it was altered (restore it from a backup) or written by a newer llmpipe (upgrade)"
    )


def _params_from_json(line: bytes, remote_name: str) -> KdfParams:
    try:
        fields = json.loads(line)
        if fields.get("kdf") == "none" and len(fields) == 1:
            return KdfParams("none")
        if fields.get("kdf") != "scrypt" or set(fields) != {"kdf", "log_n", "p", "r", "salt"}:
            raise ValueError(f"unknown KDF {fields.get('kdf')!r}")
        params = KdfParams(
            "scrypt", bytes.fromhex(fields["salt"]), fields["log_n"], fields["r"], fields["p"]
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise _keycheck_error(remote_name, f"is not readable ({exc})") from None
    _check_limits(params, remote_name)
    return params


def _check_limits(params: KdfParams, remote_name: str) -> None:
    """Refuse parameters that would make this client allocate or spend too much."""
    values = {"log_n": params.log_n, "r": params.r, "p": params.p}
    within = all(type(v) is int and _LIMITS[k][0] <= v <= _LIMITS[k][1] for k, v in values.items())
    memory = 128 * params.r << params.log_n if within else 0  # bytes scrypt allocates
    if within and memory <= _MAX_SCRYPT_MEMORY and len(params.salt) >= _KDF_SALT:
        return
    shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
    allowed = ", ".join(f"{k} {low}-{high}" for k, (low, high) in _LIMITS.items())
    raise _keycheck_error(
        remote_name,
        f"asks for unsupported scrypt parameters ({shown}, a {len(params.salt)}-byte salt; "
        f"allowed: {allowed}, at most 1 GiB of memory, a salt of 16 bytes or more)",
    )


# The key check: which format a remote has, and whether the key is the right one


def new_key_check(material: KeyMaterial, remote_name: str) -> tuple[bytes, Cipher]:
    """A format 2 key check for a new remote, and the cipher it describes."""
    params = KdfParams.fresh(material)
    cipher = CipherV2(params.derive(material, remote_name))
    signed = KEYCHECK_MAGIC_V2 + b"\n" + params.to_json()
    return signed + b"\n" + cipher.check_mac(signed).hex().encode() + b"\n", cipher


def open_key_check(blob: bytes, material: KeyMaterial, remote_name: str) -> Cipher:
    """The cipher of the remote whose key check is `blob`, in the remote's format.

    CryptoError when the key is wrong or the key check is unreadable.
    """
    if blob.startswith(MAGIC):
        cipher = CipherV1(material.v1_master())
        try:
            right = cipher.open_bytes(blob, "keycheck") == _CHECK_TEXT
        except CryptoError:
            right = False
        return _checked(cipher, right, remote_name)
    parts = blob.split(b"\n")
    if len(parts) != 4 or parts[0] != KEYCHECK_MAGIC_V2 or parts[3] != b"":
        raise _keycheck_error(remote_name, "is not in a format this llmpipe knows")
    params = _params_from_json(parts[1], remote_name)
    cipher = CipherV2(params.derive(material, remote_name))
    expected = cipher.check_mac(parts[0] + b"\n" + parts[1]).hex().encode()
    return _checked(cipher, hmac.compare_digest(expected, parts[2]), remote_name)


def _checked(cipher: Cipher, right: bool, remote_name: str) -> Cipher:
    if not right:
        raise CryptoError(
            f"wrong key for encrypted remote '{remote_name}': its objects were encrypted "
            "with another key (check LLMPIPE_REMOTE_KEY or the remote's key_file)"
        )
    return cipher
