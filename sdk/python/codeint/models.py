"""The API's objects as dataclasses, in snake_case (SPEC sections 3 and 4)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

__all__ = [
    "Result",
    "Logs",
    "ExecutionError",
    "Execution",
    "Context",
    "SandboxInfo",
    "EntryInfo",
    "WriteInfo",
    "CommandResult",
    "Runtime",
    "parse_time",
]

# The MIME formats of a result, in the order formats() lists them.
_FORMATS = ("text", "html", "markdown", "svg", "png", "jpeg", "pdf", "latex", "json", "javascript")


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO 8601 time from the API as an aware datetime (Python 3.9 has no 'Z' in fromisoformat)."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class Result:
    """One rich output: the value of the last expression, a display() or a figure.

    ``png``, ``jpeg`` and ``pdf`` are base64 strings; ``json`` is the decoded value.
    """

    is_main_result: bool = False
    text: Optional[str] = None
    html: Optional[str] = None
    markdown: Optional[str] = None
    svg: Optional[str] = None
    png: Optional[str] = None
    jpeg: Optional[str] = None
    pdf: Optional[str] = None
    latex: Optional[str] = None
    json: Any = None
    javascript: Optional[str] = None
    #: Other MIME types, keyed by MIME type.
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Result":
        extra = data.get("extra")
        return cls(
            is_main_result=bool(data.get("isMainResult", False)),
            extra=dict(extra) if isinstance(extra, Mapping) else {},
            **{name: data.get(name) for name in _FORMATS},
        )

    def formats(self) -> List[str]:
        """The formats this result has, e.g. ``["text", "png"]`` (extra MIME types last)."""
        names = [name for name in _FORMATS if getattr(self, name) is not None]
        return names + list(self.extra.keys())

    def __str__(self) -> str:
        return self.text if self.text is not None else repr(self)

    # Rich display when a Result is shown in Jupyter.
    def _repr_html_(self) -> Optional[str]:
        return self.html

    def _repr_markdown_(self) -> Optional[str]:
        return self.markdown

    def _repr_svg_(self) -> Optional[str]:
        return self.svg

    def _repr_png_(self) -> Optional[str]:
        return self.png

    def _repr_jpeg_(self) -> Optional[str]:
        return self.jpeg

    def _repr_latex_(self) -> Optional[str]:
        return self.latex

    def _repr_json_(self) -> Any:
        return self.json


@dataclass
class Logs:
    """What the code printed, as the chunks (lines) arrived."""

    stdout: List[str] = field(default_factory=list)
    stderr: List[str] = field(default_factory=list)


@dataclass
class ExecutionError:
    """An error raised by the user's code (e.g. ``ZeroDivisionError``)."""

    name: str
    value: str
    traceback: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ExecutionError":
        return cls(
            name=str(data.get("name", "")),
            value=str(data.get("value", "")),
            traceback=str(data.get("traceback", "")),
        )


@dataclass
class Execution:
    """The outcome of ``run_code``.

    ``status`` is ``"completed"``, ``"error"`` (see ``error``), ``"timeout"`` or ``"interrupted"``.
    """

    results: List[Result] = field(default_factory=list)
    logs: Logs = field(default_factory=Logs)
    error: Optional[ExecutionError] = None
    execution_count: Optional[int] = None
    id: Optional[str] = None
    status: Optional[str] = None
    duration_ms: Optional[float] = None
    sandbox_id: Optional[str] = None
    context_id: Optional[str] = None
    language: Optional[str] = None
    created_at: Optional[datetime] = None
    #: True when output past the server's per-execution cap was dropped.
    truncated: bool = False

    @property
    def text(self) -> Optional[str]:
        """The text of the main result (the value of the last expression), if any."""
        for result in self.results:
            if result.is_main_result:
                return result.text
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Execution":
        logs = data.get("logs") or {}
        error = data.get("error")
        return cls(
            results=[Result.from_dict(r) for r in data.get("results") or []],
            logs=Logs(stdout=list(logs.get("stdout") or []), stderr=list(logs.get("stderr") or [])),
            error=ExecutionError.from_dict(error) if isinstance(error, Mapping) else None,
            execution_count=data.get("executionCount"),
            id=data.get("id"),
            status=data.get("status"),
            duration_ms=data.get("durationMs"),
            sandbox_id=data.get("sandboxId"),
            context_id=data.get("contextId"),
            language=data.get("language"),
            created_at=parse_time(data.get("createdAt")),
            truncated=bool(data.get("truncated", False)),
        )


@dataclass
class Context:
    """An independent kernel (variables, imports, cwd) inside a sandbox."""

    id: str
    language: str
    cwd: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Context":
        return cls(id=str(data["id"]), language=str(data.get("language", "")), cwd=str(data.get("cwd", "")))


@dataclass
class SandboxInfo:
    """A sandbox as the API describes it."""

    sandbox_id: str
    status: str
    runtime: str
    #: ``{"cpu": cores, "memory": MB}``
    resources: Dict[str, float]
    metadata: Dict[str, str]
    created_at: Optional[datetime]
    expires_at: Optional[datetime]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SandboxInfo":
        return cls(
            sandbox_id=str(data["id"]),
            status=str(data.get("status", "")),
            runtime=str(data.get("runtime", "")),
            resources=dict(data.get("resources") or {}),
            metadata=dict(data.get("metadata") or {}),
            created_at=parse_time(data.get("createdAt")),
            expires_at=parse_time(data.get("expiresAt")),
        )


@dataclass
class EntryInfo:
    """A file or folder inside a sandbox."""

    name: str
    path: str
    #: ``"file"``, ``"dir"`` or ``"symlink"``
    type: str
    size: int
    modified_at: Optional[datetime]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EntryInfo":
        return cls(
            name=str(data.get("name", "")),
            path=str(data.get("path", "")),
            type=str(data.get("type", "file")),
            size=int(data.get("size") or 0),
            modified_at=parse_time(data.get("modifiedAt")),
        )


@dataclass
class WriteInfo:
    """Where an upload landed (the absolute path) and how many bytes were written."""

    path: str
    size: int


@dataclass
class CommandResult:
    """The outcome of a shell command."""

    exit_code: int
    stdout: str
    stderr: str
    duration_ms: Optional[float] = None
    truncated: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CommandResult":
        return cls(
            exit_code=int(data.get("exitCode", 0)),
            stdout=str(data.get("stdout", "")),
            stderr=str(data.get("stderr", "")),
            duration_ms=data.get("durationMs"),
            truncated=bool(data.get("truncated", False)),
        )


@dataclass
class Runtime:
    """A runtime the server offers, e.g. ``python3.11`` (aliases ``python``, ``py``)."""

    name: str
    language: str
    version: str
    aliases: List[str]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Runtime":
        return cls(
            name=str(data.get("name", "")),
            language=str(data.get("language", "")),
            version=str(data.get("version", "")),
            aliases=list(data.get("aliases") or []),
        )

