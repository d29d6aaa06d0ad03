"""Confinement of a worker with Linux namespaces: what student code can see, reach and outlive.

The zygote starts a session's init with :func:`clone_session`: one process, born in new PID,
network, mount, IPC and UTS namespaces (as root directly; otherwise inside a new user namespace)
where the machine allows them. Init is PID 1 of its PID namespace: when it ends, the kernel kills
every process left in it, ``setsid`` daemons and fork loops included. The network namespace has
only a loopback interface, down. Init then calls :func:`enter`, which builds a new root file
system, read-only itself:

- read-only binds of the system (``/usr``, ``/lib*``, ``/bin``, ``/etc``) and of Python's own
  prefix, a minimal ``/dev``, and the worker's scratch folder at its own path: a tmpfs with a
  size limit, holding the student's files read-only in ``src/``. The project tree
  (``solutions/``, the bank of hidden checks), other submissions, the gradebook and reports are
  simply not there; ``/tmp`` and ``/dev/shm`` are fresh tmpfs that vanish with the namespace;
- a ``/proc`` that shows only the namespace's processes.

Each runner (:func:`drop_privileges`) drops privileges before student code runs: to a user of
the session's own when the grader runs as root, or every capability of the user namespace
otherwise, with ``no_new_privs`` set.

Where namespaces are not available the worker still runs in its own process group (killed as a
whole), under time, CPU, memory and output limits; :func:`probe` says which protections hold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import signal
import site
import sys
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 0x2
PR_SET_NO_NEW_PRIVS = 38
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SYS_PIVOT_ROOT = 155  # x86_64 and aarch64 differ; resolved in _pivot_root
NOBODY = 65534
#: The users sessions run as when the grader is root: one each, drawn from this range.
SESSION_UIDS = (2**20, 2**30)

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
# clone(2) without a new stack returns twice, like fork: it must be called holding the GIL (a
# PyDLL call), as os.fork calls fork().
_syscall = ctypes.PyDLL(None, use_errno=True).syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = [ctypes.c_long] * 6
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "riscv64": 220}


class ConfineError(OSError):
    """A namespace or mount step failed."""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise ConfineError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _pivot_root(new_root: str, put_old: str) -> None:
    number = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine, SYS_PIVOT_ROOT)
    _check(_libc.syscall(number, new_root.encode(), put_old.encode()), "pivot_root")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


@dataclass(frozen=True)
class Protections:
    """What this machine lets the sandbox do; each line of ``grader doctor``."""

    namespaces: bool  # PID, network, mount namespaces
    as_root: bool
    detail: str = ""

    def lines(self) -> list[tuple[str, bool, str]]:
        ns = self.namespaces
        return [
            ("worker processes apart from the grader, killed with their process group; an "
             "exercise that fails after another ran in its worker is graded again in a worker "
             "of its own", True, ""),
            ("time limit per call, CPU-time, memory, output and file-size limits", True, ""),
            ("nothing the student starts outlives the run ("
             + ("PID namespace" if ns else "no PID namespace: the whole process tree is "
                "killed through a child subreaper") + ")", True, ""),
            ("no network (empty network namespace)", ns, self.detail),
            ("private file system view: no solutions, hidden checks, other submissions, "
             "gradebook or reports; writes only to a scratch folder", ns, self.detail),
            ("unprivileged: student code runs as nobody / without capabilities",
             ns or self.as_root, self.detail),
            ("cannot read, signal or trace the grader (other PID namespace or user; grader "
             "not dumpable)", ns or self.as_root,
             "same user as the grader: it is only made non-dumpable"),
        ]

    def summary(self) -> str:
        off = [name for name, on, _ in self.lines() if not on]
        if not off:
            return ("sandbox: separate processes; PID, network and mount namespaces; private "
                    "file system; unprivileged; time, memory and output limits")
        return ("sandbox: separate processes with time, memory and output limits; OFF on this "
                "machine: " + "; ".join(off))


def _userns_works() -> tuple[bool, str]:
    """Try the namespaces in a throwaway child (the answer is cached by the caller)."""
    if os.uname().machine not in _SYS_CLONE:
        return False, f"namespaces are not supported on {os.uname().machine} yet"
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _unshare(namespace_flags())
        except OSError:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return True, ""
    return False, ("this kernel does not allow unprivileged user namespaces "
                   "(kernel.unprivileged_userns_clone or a security policy)")


_outer_user: tuple[int, int] | None = None  # (uid, gid) a new user namespace maps


def namespace_flags() -> int:
    """The namespaces a session's init is born in (a user namespace unless the grader is root)."""
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    return flags if os.geteuid() == 0 else flags | CLONE_NEWUSER


def clone_session() -> int:
    """Fork a session's init, in new namespaces where the machine allows them (see
    :func:`probe`): 0 in the child, its pid in the parent, like ``os.fork``.

    One ``clone(2)`` does what ``unshare`` and then a fork would do with two processes, and it
    skips the fork handlers (glibc's and Python's: a few hundred page copies in every child):
    only for a parent that has a single thread (the zygote; checked), whose child forks its own
    children with ``os.fork``. The child maps its user namespace to the parent's user in
    :func:`enter`."""
    global _outer_user
    if os.uname().machine not in _SYS_CLONE:
        return os.fork()
    if len(os.listdir("/proc/self/task")) != 1:
        raise ConfineError(errno.EDEADLK, "clone: the zygote has more than one thread")
    flags = namespace_flags() if probe().namespaces else 0
    _outer_user = (os.getuid(), os.getgid()) if flags & CLONE_NEWUSER else None
    pid = _syscall(_SYS_CLONE[os.uname().machine], flags | signal.SIGCHLD, 0, 0, 0, 0)
    if pid < 0:
        err = ctypes.get_errno()
        raise ConfineError(err, f"clone: {os.strerror(err)}")
    return pid


_probed: Protections | None = None


def probe() -> Protections:
    """What this machine allows. ``GRADER_NO_NAMESPACES=1`` turns namespaces off (to test the
    fallback, or where a site policy forbids them)."""
    global _probed
    if _probed is None:
        if os.environ.get("GRADER_NO_NAMESPACES") == "1":
            works, detail = False, "turned off by GRADER_NO_NAMESPACES=1"
        elif not sys.platform.startswith("linux"):
            works, detail = False, "namespaces need Linux"
        else:
            works, detail = _userns_works()
        _probed = Protections(works, os.geteuid() == 0, detail)
    return _probed


# ----------------------------------------------------------------------------- the new root

@dataclass(frozen=True)
class _Bind:
    """One bind mount of the machine's ``source`` into the new root, at the same path."""

    source: str
    folder: bool  # a folder (else a file: a device)
    remount: int  # flags of the read-only remount that follows; 0: stays writable


def _bind_of(source: str, *, writable: bool = False) -> _Bind:
    if writable:
        return _Bind(source, os.path.isdir(source), 0)
    # A read-only remount must keep the flags the original mount has locked.
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
    st = os.statvfs(source)
    if st.f_flag & os.ST_NODEV:
        flags |= MS_NODEV
    if st.f_flag & os.ST_NOEXEC:
        flags |= MS_NOEXEC
    return _Bind(source, os.path.isdir(source), flags)


def _bind(bind: _Bind, root: str) -> None:
    dest = root + bind.source
    if bind.folder:
        os.makedirs(dest, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(bind.source, dest, None, MS_BIND | MS_REC)
    if bind.remount:
        _mount(None, dest, None, bind.remount)


def _python_paths() -> list[str]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    try:
        paths.update(site.getsitepackages())
    except AttributeError:
        pass
    user = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if user:
        paths.add(user)
    paths.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    # A folder inside another one of the list comes with it (binds are recursive): two mounts
    # fewer to make, and to tear down, per folder.
    outermost: list[str] = []
    for path in sorted(os.path.normpath(p) for p in paths if p and os.path.isdir(p)):
        if not any(path.startswith(kept.rstrip("/") + "/") for kept in outermost):
            outermost.append(path)
    return outermost


@dataclass(frozen=True)
class _RootPlan:
    """What every session's root holds of the machine, worked out once, in the zygote (see
    :func:`plan_root`): a session's init then only makes the mounts, without looking at the
    machine's folders or running this code for the first time in each new process."""

    links: tuple[tuple[str, str], ...]  # (path, where the link points)
    system: tuple[_Bind, ...]  # /usr, /lib*, /bin, /sbin, /etc, then the devices
    python: tuple[_Bind, ...]  # Python's prefix and packages
    bank: str | None  # an installed grader's bank of checks, hidden under an empty tmpfs


_plan: _RootPlan | None = None


def plan_root() -> _RootPlan:
    """The machine's part of every session's root (computed on first use, then kept: the
    zygote calls this before it forks any session)."""
    global _plan
    if _plan is None:
        links, system = [], []
        for folder in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc"):
            if os.path.islink(folder):
                links.append((folder, os.readlink(folder)))
            elif os.path.exists(folder):
                system.append(_bind_of(folder))
        devices = ["null", "zero", "full", "random", "urandom"]
        # CUDA workers (grading on GPU) need the NVIDIA devices.
        devices += sorted(d for d in os.listdir("/dev") if d.startswith("nvidia"))
        system += [_bind_of(f"/dev/{d}", writable=True) for d in devices
                   if os.path.exists(f"/dev/{d}")]
        python = tuple(_bind_of(path) for path in _python_paths())
        # An installed (not editable) grader sits in site-packages: its bank of checks stays
        # out.
        bank = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bank")
        inside = any(bank.startswith(b.source.rstrip("/") + "/") for b in system + list(python)
                     if b.folder)
        _plan = _RootPlan(tuple(links), tuple(system), python,
                          bank if inside and os.path.isdir(bank) else None)
    return _plan


def _build_root(root: str, scratch: str, scratch_bytes: int) -> None:
    plan = plan_root()
    os.makedirs(root, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    for path, target in plan.links:
        os.symlink(target, root + path)
    os.mkdir(root + "/dev")
    for bind in plan.system:
        _bind(bind, root)
    os.mkdir(root + "/dev/shm")
    _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m")
    # A /proc that shows only the namespace's processes (init, the caller, is in the new PID
    # namespace), mounted while the machine's /proc is still in view: in a user namespace the
    # kernel allows a new proc only where a full one is visible already.
    os.mkdir(root + "/proc")
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # /tmp is a small tmpfs that vanishes with the namespace; the scratch folder (often under
    # /tmp itself) is bound after it, at its own path, so the grader finds the output there.
    os.mkdir(root + "/tmp")
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777")
    # Python and its packages after /tmp: a virtual environment may live under /tmp itself.
    for bind in plan.python:
        _bind(bind, root)
    if plan.bank is not None:
        _mount("tmpfs", root + plan.bank, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k")
    # The scratch folder is a tmpfs of its own, with a size: writing there cannot fill the
    # grader's disk. The student's files come in read-only from the host's copy.
    os.makedirs(root + scratch, exist_ok=True)
    owner = os.stat(scratch)
    _mount("tmpfs", root + scratch, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={max(scratch_bytes, 2**20)},mode=0755,uid={owner.st_uid},gid={owner.st_gid}")
    _bind(_bind_of(os.path.join(scratch, "src")), root)
    old = root + "/.old-root"
    os.mkdir(old)
    _pivot_root(root, old)
    os.chdir("/")
    _check(_libc.umount2(b"/.old-root", MNT_DETACH), "umount old root")
    os.rmdir("/.old-root")
    # Nothing is written outside the scratch folder, /tmp and /dev/shm (tmpfs of the sandbox's
    # own): the root itself is read-only (it would belong to the student's user when the
    # grader is not root).
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter(scratch: str, root: str, *, scratch_bytes: int = 256 * 2**20) -> bool:
    """In a session's init, just born in new namespaces (:func:`clone_session`), before it forks
    any runner: the new root, and a ``/proc`` that shows only the namespace's processes.

    ``root`` is an empty folder (outside ``scratch``) to build the new root in.

    Returns True when confined (init is PID 1 of a new PID namespace).
    """
    if not probe().namespaces:
        return False
    if _outer_user is not None:
        uid, gid = _outer_user
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _build_root(root, scratch, scratch_bytes)
    return True


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_privileges(uid: int | None) -> None:
    """In the runner, before any student code: no way back to privileges. As root, become
    ``uid`` (a user of the session's own, so limits per user and signals stay within the
    session); otherwise give up every capability the user namespace granted."""
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if os.getuid() == 0:
        target = uid if uid is not None else NOBODY
        os.setgroups([])
        os.setresgid(target, target, target)
        os.setresuid(target, target, target)  # from root to another user: every capability goes
    else:
        header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
        data = (_CapData * 2)()
        _check(_libc.capset(ctypes.byref(header), data), "capset")


def become_subreaper() -> None:
    """Orphaned descendants of this process become its children (not the system init's)."""
    if sys.platform.startswith("linux"):
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def protect_grader() -> None:
    """Make the grader's own process non-dumpable: a same-uid process cannot ptrace it or read
    its memory through /proc (the last line of defence where namespaces are off)."""
    if sys.platform.startswith("linux"):
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
