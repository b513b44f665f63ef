"""Pinned npm packages, fetched with the machine's own npm client (so with whatever registry,
proxy and cache it is configured with) and checked here against the integrity hash the registry
published for each exact version (`dist.integrity`): the repository holds no copy of third-party
code, and a tarball that differs by one byte is refused."""

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# npm retries an unreachable registry for about a minute by itself; past this, give up.
NPM_TIMEOUT = 300.0


@dataclass(frozen=True)
class Pin:
    """One exact version of an npm package, and the files of it that Kilas serves."""

    name: str
    version: str
    integrity: str  # the registry's `dist.integrity`: "sha512-" and the base64 digest
    files: tuple[str, ...]  # paths inside the package

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


class FetchError(Exception):
    """The pinned npm packages could not be fetched."""


def check_integrity(pin: Pin, tarball: bytes) -> None:
    algorithm, _, expected = pin.integrity.partition("-")
    if algorithm != "sha512":
        raise ValueError(f"{pin.spec}: pin a sha512 integrity, not {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if actual != expected:
        raise FetchError(
            f"the tarball of {pin.spec} does not match its pinned integrity (its SHA-512 is "
            f"sha512-{actual}); refused"
        )


def unpack(pin: Pin, tarball: bytes, into: Path) -> None:
    """Write the pin's files, and nothing else, to `into/NAME@VERSION/PATH`."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        # npm packs a package under one top folder, usually `package/`.
        members = {
            member.name.partition("/")[2]: member
            for member in archive.getmembers()
            if member.isfile()
        }
        for path in pin.files:
            source = archive.extractfile(members[path]) if path in members else None
            if source is None:
                raise FetchError(f"{pin.spec} has no file {path}")
            target = into / pin.spec / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())


def install(tarballs: Mapping[Pin, bytes], directory: Path) -> None:
    """Check every tarball, then make `directory` hold the pins' files: it appears whole, by one
    rename, or not at all, so a reader never sees half of it and a crash leaves nothing behind."""
    for pin, tarball in tarballs.items():
        check_integrity(pin, tarball)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        staging.chmod(0o755)
        for pin, tarball in tarballs.items():
            unpack(pin, tarball, staging)
        try:
            staging.rename(directory)
        except OSError:
            if not directory.is_dir():
                raise
            # Another process installed the same pins meanwhile: theirs is as good as ours.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


async def npm_pack(pins: Sequence[Pin], npm: str = "npm") -> dict[Pin, bytes]:
    """The tarballs of `pins`, as `npm pack NAME@VERSION` downloads them."""
    executable = shutil.which(npm)
    if executable is None:
        raise FetchError(f"npm was not found ({npm!r} is not on PATH)")
    with tempfile.TemporaryDirectory(prefix="kilas-npm-") as tmp:
        # Packing a registry package runs none of its scripts; --ignore-scripts makes sure.
        command = [executable, "pack", *(pin.spec for pin in pins), "--json", "--ignore-scripts"]
        env = {**os.environ, "npm_config_update_notifier": "false"}
        process = await asyncio.create_subprocess_exec(
            *command,
            f"--pack-destination={tmp}",
            cwd=tmp,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), NPM_TIMEOUT)
        except BaseException as stopped:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            if isinstance(stopped, TimeoutError):
                raise FetchError(f"npm pack did not finish within {NPM_TIMEOUT:g} s") from None
            raise
        if process.returncode != 0:
            raise FetchError(f"npm pack failed: {_npm_error(stdout, stderr)}")
        return {pin: (Path(tmp) / _packed_file(pin, stdout)).read_bytes() for pin in pins}


async def fetch(pins: Sequence[Pin], directory: Path, npm: str = "npm") -> None:
    tarballs = await npm_pack(pins, npm)
    await asyncio.to_thread(install, tarballs, directory)


def _packed_file(pin: Pin, stdout: bytes) -> str:
    try:
        packed = json.loads(stdout)
        for entry in packed:
            if entry["name"] == pin.name and entry["version"] == pin.version:
                return str(Path(entry["filename"]).name)
    except (ValueError, TypeError, KeyError):
        raise FetchError("npm pack printed no JSON list of tarballs") from None
    raise FetchError(f"npm pack did not pack {pin.spec}")


def _npm_error(stdout: bytes, stderr: bytes) -> str:
    """npm's own one-line summary (`--json` prints it on stdout), else its last line."""
    with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
        error = json.loads(stdout)["error"]
        return f"{error['code']}: {error['summary']}"[:300]
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"
