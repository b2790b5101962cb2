"""Check a torch device name before any work, so a wrong one fails in a second with the fix; share the CPU."""

from __future__ import annotations

import contextlib

from ..errors import InputError

__all__ = ["check_device", "one_thread_fewer_while"]


def check_device(device) -> str | None:
    """Return ``device`` as torch spells it, or raise when this machine's torch cannot use it.

    Parameters
    ----------
    device : str, torch.device or None
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, ...; None passes through.

    Raises
    ------
    InputError
        Not a device name; CUDA asked of a CPU build of torch or of a machine
        without a visible GPU; a GPU index beyond the visible ones; MPS where
        it is not available.
    """
    if device is None:
        return None
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InputError(f"device={device!r} is not a torch device; use 'cpu', 'cuda', 'cuda:1' or 'mps'.") from None
    if dev.type == "cuda":
        if torch.version.cuda is None:
            raise InputError(
                f"device={str(device)!r} needs CUDA, but this torch ({torch.__version__}) is a CPU build. "
                "Use device='cpu' (--device cpu), or install a CUDA build of torch on a machine with a GPU."
            )
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(f"device={str(device)!r}: torch sees no CUDA GPU on this machine. Use device='cpu'.")
        if dev.index is not None and dev.index >= count:
            raise InputError(f"device={str(device)!r}: torch sees {count} CUDA GPU(s), numbered 0..{count - 1}.")
    elif dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InputError(f"device={str(device)!r}: MPS is not available here. Use device='cpu'.")
    return str(dev)


@contextlib.contextmanager
def one_thread_fewer_while(busy):
    """Meanwhile torch uses one CPU thread fewer, if ``busy`` (a future of work on another core) is not done.

    torch's threads wait on each other at every operation, so one core busy
    with other work slows them all: beside ``zigzag run``'s figures on two
    cores, the demo's first plan took 3 s with two threads and 1 s with one.
    """
    import torch

    threads = torch.get_num_threads()
    if busy.done() or threads == 1:
        yield
        return
    torch.set_num_threads(threads - 1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
