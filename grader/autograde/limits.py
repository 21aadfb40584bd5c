"""The limits on one learner kernel, each defined once: name, unit, default, help, and how it is enforced.

Everything else is derived from :data:`LIMITS`:

* :class:`SandboxLimits`, the value a course and its workers carry (one field per limit);
* the ``prlimit`` options a sandboxed kernel starts under (:meth:`SandboxLimits.prlimit_args`);
* the nbgrader settings :func:`grader.autograde.settings.apply_course_settings` writes
  (``Limit.setting``, e.g. ``c.SandboxedKernelManager.memory_mb``), and the
  traits of :class:`grader.autograde.sandbox.SandboxedKernelManager`;
* the command line's options (``--memory-mb``, ...), with their help.

A new resource limit that ``prlimit`` enforces is one entry here; a new kind
of limit also needs the code that enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass


@dataclass(frozen=True)
class Limit:
    """One limit on a learner kernel."""

    name: str          # SandboxLimits field, and --option (a trailing "_s" dropped, "_" as "-")
    unit: str          # for people: "MiB", "s", or "" for a count
    default: int
    help: str          # what it bounds, for --help
    setting: str       # the traitlets setting that carries it into nbgrader: "Class.trait"
    rlimit: str = ""   # prlimit's option, for limits the kernel's process is started under
    per_unit: int = 1  # prlimit's units per unit of the limit (bytes per MiB)

    @property
    def option(self) -> str:
        return "--" + self.name.removesuffix("_s").replace("_", "-")

    @property
    def described(self) -> str:
        return f"{self.help} (default {self.default}{' ' + self.unit if self.unit else ''})"


def _kernel_limit(name: str, unit: str, default: int, help: str, rlimit: str, per_unit: int = 1) -> Limit:
    return Limit(name, unit, default, help, f"SandboxedKernelManager.{name}", rlimit, per_unit)


MIB = 2**20

#: The defaults suit the course's notebooks on 2 cores.
LIMITS: tuple[Limit, ...] = (
    # RLIMIT_AS: a memory bomb ends in a MemoryError in the learner's cell.
    _kernel_limit("memory_mb", "MiB", 6_144, "address space per kernel", "--as", MIB),
    _kernel_limit("cpu_seconds", "s", 1_800, "CPU time per kernel", "--cpu"),
    # RLIMIT_NPROC counts processes *and threads* of the sandbox user: a fork bomb stops there.
    _kernel_limit("processes", "", 256, "processes and threads per kernel", "--nproc"),
    _kernel_limit("file_size_mb", "MiB", 256, "largest file a kernel may write", "--fsize", MIB),
    # Wall-clock limits, applied by the grader around the kernel (grader.autograde.sandbox.GuardedExecute).
    Limit("cell_timeout_s", "s", 120, "wall clock per cell", "Execute.timeout"),
    Limit("notebook_timeout_s", "s", 900, "wall clock per notebook", "GuardedExecute.notebook_timeout"),
)

#: The limits ``prlimit`` enforces on the kernel's process: they apply only inside the sandbox.
KERNEL_LIMITS = tuple(limit for limit in LIMITS if limit.rlimit)


def limit(name: str) -> Limit:
    """The :data:`LIMITS` entry called ``name``."""
    return next(entry for entry in LIMITS if entry.name == name)


def _check_positive(self) -> None:
    for f in fields(self):
        value = getattr(self, f.name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"sandbox limit {f.name} must be a positive integer, got {value!r}")


def _prlimit_args(self) -> list[str]:
    # --core=0 is not a limit one tunes: a crashing kernel must never write a core dump of its memory.
    return [f"{entry.rlimit}={getattr(self, entry.name) * entry.per_unit}" for entry in KERNEL_LIMITS] + ["--core=0"]


def _as_settings(self, sandboxed: bool = True) -> dict[str, int]:
    """``{"Class.trait": value}`` for nbgrader's config; the kernel's own limits only when ``sandboxed``."""
    return {entry.setting: getattr(self, entry.name) for entry in LIMITS if sandboxed or not entry.rlimit}


SandboxLimits = make_dataclass(
    "SandboxLimits",
    [(entry.name, int, field(default=entry.default)) for entry in LIMITS],
    frozen=True,
    namespace={"__post_init__": _check_positive, "prlimit_args": _prlimit_args, "settings": _as_settings,
               "__doc__": "One value per :data:`LIMITS` entry (a positive integer in its unit); "
                          "the defaults are the entries'."},
)
SandboxLimits.__module__ = __name__  # so that a pickled SandboxLimits (a Job's) finds its class by name
