"""See and reach: ptrace(PTRACE_ATTACH) and PTRACE_SEIZE on its parent and on process 1,
process_vm_readv of the parent's memory. Prints what happened; dot answers correctly.
Expected: full marks, every attempt refused."""
import ctypes
import os

import numpy as np

PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def dot(u, v):
    if not getattr(dot, "done", False):
        dot.done = True
        libc = ctypes.CDLL(None, use_errno=True)
        for name, request in (("ATTACH", PTRACE_ATTACH), ("SEIZE", PTRACE_SEIZE)):
            for pid in sorted({os.getppid(), 1}):
                ok = libc.ptrace(request, pid, None, None) == 0
                err = ctypes.get_errno()
                print(f"{'LEAK ' if ok else ''}ptrace {name} {pid}: "
                      f"{'attached' if ok else os.strerror(err)}")
        buf = ctypes.create_string_buffer(16)
        local, remote = _IoVec(ctypes.addressof(buf), 16), _IoVec(0x400000, 16)
        got = libc.process_vm_readv(os.getppid(), ctypes.byref(local), 1,
                                    ctypes.byref(remote), 1, 0)
        print(f"{'LEAK ' if got > 0 else ''}process_vm_readv: "
              f"{got if got > 0 else os.strerror(ctypes.get_errno())}")
    return float(np.dot(u, v))
