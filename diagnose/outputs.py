"""File safety for every command: no output over an input, atomic writes, one writer per output set, inputs pinned while read.

- `check_targets` refuses (exit 2, before anything is written) an output that is an input or
  another output: the same file by device and inode, whatever its name (a hard link, a symlink,
  `-o` naming the file fed on standard input), or by resolved path for files not yet there.
- `atomic` writes a whole file to a temporary file beside the target and renames it into place:
  a failed or killed write leaves the old file, never half a new one.
- `OutputLock` holds an exclusive lock on a file beside a resumable output (a batch's
  `--output` and `--errors`, which are appended to), so that a second run on the same outputs is
  refused; the lock file of `--output` also records the inputs of the run, for `--resume` to check.
- `Pin` is one input file's identity (device, inode, size, modification time): a batch checks it
  as it goes and stops when the file changes under it.
- Any `OSError` while writing becomes `OutputError` (exit 5), one line naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from diagnose.errors import InvalidInput, OutputError, PipeClosed, Problem, UsageError
from diagnose.errorwords import Said, say

STDIN = "-"
HEAD_BYTES = 1 << 20
"""How much of an input's start the record of a run digests (with its size and modification time)."""


# --- the same file ----------------------------------------------------------------------


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(os.path.realpath(path))
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def stdin_identity() -> tuple[int, int] | None:
    """The file behind standard input when it is a regular file (`< day.jsonl`), else None."""
    try:
        st = os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def _key(path: Path) -> tuple[Any, ...]:
    ident = _identity(path)
    if ident is not None:
        return ("file", ident[0], ident[1])
    return ("path", os.path.realpath(path))


def check_targets(inputs: Sequence[str | Path], outputs: Sequence[tuple[str, Path | None]]) -> None:
    """Refuse an output that is one of the inputs (``-`` is standard input) or another output.

    ``outputs`` are (option, path) pairs such as ("--html", Path("day.html")); a path of None is
    an output not asked for. Raises UsageError (exit 2) naming both.
    """
    seen_inputs: dict[tuple[Any, ...], Said] = {}
    for name in inputs:
        if str(name) == STDIN:
            ident = stdin_identity()
            if ident is not None:
                seen_inputs[("file", ident[0], ident[1])] = say("output.stdin")
            continue
        ident = _identity(Path(name))
        if ident is not None:
            seen_inputs.setdefault(("file", ident[0], ident[1]), say("output.input", name=name))
    seen_outputs: dict[tuple[Any, ...], str] = {}
    for option, path in outputs:
        if path is None:
            continue
        key = _key(path)
        if key in seen_inputs:
            raise UsageError(
                say("output.overwrite", option=option, input=seen_inputs[key]), source=str(path), hint=say("output.overwrite.hint")
            )
        if key in seen_outputs:
            raise UsageError(say("output.same", first=seen_outputs[key], second=option), source=str(path), hint=say("output.same.hint"))
        seen_outputs[key] = option


# --- writing ----------------------------------------------------------------------------


def output_error(exc: OSError, target: str) -> OutputError:
    """An OSError while writing as the one-line error of exit 5."""
    reason = exc.strerror or str(exc)
    hint = _WRITE_HINTS.get(exc.errno or 0)
    return OutputError(say("output.cannot_write", reason=reason), source=target, hint=None if hint is None else say(hint))


_WRITE_HINTS = {errno.ENOSPC: "output.full", errno.EDQUOT: "output.quota", errno.EACCES: "output.denied", errno.EROFS: "output.read_only"}
"""What to do about a failed write, by its errno: keys of `errorwords`."""


@contextlib.contextmanager
def writing(target: str) -> Iterator[None]:
    """Turn an OSError of the body into OutputError naming ``target``."""
    try:
        yield
    except BrokenPipeError:  # the reader went away (`| head`): not an error, the CLI stops quietly
        raise PipeClosed("standard output was closed", source=target) from None
    except OSError as exc:
        raise output_error(exc, target) from None


@contextlib.contextmanager
def atomic(path: Path) -> Iterator[IO[bytes]]:
    """A binary file handle whose content replaces ``path`` in one rename when the block ends without error.

    The temporary file lies beside the target (a rename is atomic only within a file system) and
    gets the target's permissions, or those a new file would get. On any error it is removed and
    the target is left as it was.
    """
    target = Path(os.path.realpath(path))  # a symlink is written through, not replaced
    if target.exists() and not target.is_file():  # a device or a pipe: written to, never replaced by a file
        with writing(str(path)), target.open("wb") as direct:
            yield direct
        return
    import tempfile  # writing a file only: a report on standard output does not load it

    with writing(str(path)):
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            with writing(str(path)):
                fh.flush()
                os.fsync(fh.fileno())
        with writing(str(path)):
            os.chmod(tmp, _mode(target))
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: Path, text: str) -> None:
    """A whole text file, atomically, as UTF-8; OSError becomes OutputError."""
    with atomic(path) as fh, writing(str(path)):
        fh.write(text.encode("utf-8"))


def open_append(path: Path, *, truncate: bool) -> IO[bytes]:
    """A resumable output, opened for appending (emptied first unless resuming); OSError becomes OutputError."""
    with writing(str(path)):
        return path.open("wb" if truncate else "ab")


# --- one writer per output set ----------------------------------------------------------


def lock_path(output: Path) -> Path:
    return output.parent / f".{output.name}.lock"


class OutputLock:
    """An exclusive lock on one resumable output, held from before the first write until the process ends.

    The lock is a POSIX record lock (`lockf`) on ``.NAME.lock`` beside the output: it dies with the
    process (a kill leaves no stale lock), and unlike `flock` it is not inherited by forked worker
    processes, which outlive a killed parent by up to half a second. A POSIX lock is dropped when
    the process closes any descriptor of the file, so the file is read and written only through
    the one descriptor that holds it. The file stays: it is where the run's inputs are recorded.
    """

    def __init__(self, output: Path, option: str) -> None:
        self.path = lock_path(output)
        self.output = output
        self.option = option
        self.fd = -1

    def acquire(self) -> OutputLock:
        try:
            import fcntl
        except ImportError:  # not on a POSIX system: no lock to take
            return self
        with writing(str(self.path)):
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self.fd)
            self.fd = -1
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise UsageError(
                    f"another `diagnose batch` is writing {self.option} {self.output}",
                    source=str(self.output),
                    hint="wait for it to finish (or stop it), then run again; two runs on the same outputs would duplicate records",
                ) from None
            raise output_error(exc, str(self.path)) from None
        return self

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops the lock
            self.fd = -1

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def recorded(self) -> list[dict[str, Any]] | None:
        """The inputs the last run on this output recorded, or None (no record, or not one of ours)."""
        if self.fd < 0:
            return None
        try:
            data = orjson.loads(os.pread(self.fd, os.fstat(self.fd).st_size, 0))
        except (OSError, orjson.JSONDecodeError):
            return None
        inputs = data.get("inputs") if isinstance(data, dict) else None
        return inputs if isinstance(inputs, list) else None

    def record(self, inputs: list[dict[str, Any]]) -> None:
        """Write the inputs of this run into the lock file (done before any output is written)."""
        if self.fd < 0:
            return
        with writing(str(self.path)):
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, orjson.dumps({"inputs": inputs}, option=orjson.OPT_INDENT_2) + b"\n", 0)


# --- input identity ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """One input file as it was when the run began."""

    name: str
    path: str
    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, name: str, path: Path) -> Pin:
        st = os.stat(path)
        return cls(name, str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def check(self) -> None:
        """Raise InvalidInput when the file at the path is no longer this one, or was written to."""
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise changed(self.name, f"it can no longer be read ({exc.strerror or exc})") from None
        if (st.st_dev, st.st_ino) != (self.dev, self.ino):
            raise changed(self.name, "it was replaced by another file")
        if st.st_size != self.size or st.st_mtime_ns != self.mtime_ns:
            raise changed(self.name, f"it was written to (size {self.size:,} -> {st.st_size:,} bytes)")

    def record(self) -> dict[str, Any]:
        """What a resumed run compares: the name, size, modification time and a digest of the start."""
        return {"name": self.name, "size": self.size, "mtime_ns": self.mtime_ns, "head": head_digest(Path(self.path))}


def changed(
    name: str,
    why: str,
    hint: str = "the output holds the records read before the change; run the batch again (without --resume) on a file that is not being written",
) -> InvalidInput:
    return InvalidInput([Problem("", f"the file changed while the batch read it: {why}")], source=name, hint=hint)


def head_digest(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return hashlib.blake2b(fh.read(HEAD_BYTES), digest_size=16).hexdigest()
    except OSError:
        return ""


def span_digest(block: bytes) -> bytes:
    """The digest a span of an input carries, checked by the worker that reads it: a CRC-32, which
    catches any change of the bytes but a one-in-four-billion one (it is not a defence against an
    adversary, who could write the input anyway), at several times the speed of a hash."""
    return zlib.crc32(block).to_bytes(4, "big")


def same_inputs(recorded: list[dict[str, Any]], now: list[dict[str, Any]]) -> str | None:
    """Why the inputs of a resumed run are not those of the first run, or None when they are."""
    if [r.get("name") for r in recorded] != [r.get("name") for r in now]:
        return "the inputs are not the ones, in the same order, of the first run"
    for old, new in zip(recorded, now, strict=True):
        if old != new:
            return f"{new.get('name')} changed since the first run"
    return None
