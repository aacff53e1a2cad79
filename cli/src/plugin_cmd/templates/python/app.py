"""{{tool}}: a wharf tool written in Python, built with componentize-py.

It reads the file through the host's `read-file` import (one host call,
checked against the plugin's read grant), not through WASI's filesystem.
"""

import json
import posixpath

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types

SCHEMA = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "The file to count, relative to the working directory",
        }
    },
    "required": ["path"],
    "additionalProperties": False,
}


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def count(data: bytes) -> str:
    """Lines: newlines, plus an unterminated last line. Words: runs of bytes
    that are not ASCII whitespace (what `bytes.split()` splits on)."""
    lines = data.count(b"\n")
    if data and not data.endswith(b"\n"):
        lines += 1
    return f"{plural(lines, 'line')}, {plural(len(data.split()), 'word')}"


def read_error(path: str, error: host.ReadError) -> types.ToolError:
    if isinstance(error, host.ReadError_NotFound):
        return types.ToolError_Failed(f"{path}: no such file")
    if isinstance(error, host.ReadError_Denied):
        return types.ToolError_Denied(error.value)
    return types.ToolError_Failed(error.value)


class Tool(exports.Tool):
    def describe(self) -> list[types.ToolSpec]:
        return [
            types.ToolSpec(
                name="{{tool}}",
                description="Count the lines and words of a file",
                input_schema=json.dumps(SCHEMA),
                freeform_grammar=None,
                requires=[],
            )
        ]

    def invoke(self, cx: types.CallContext, name: str, args_json: str) -> types.ToolOutput:
        if name != "{{tool}}":
            raise Err(types.ToolError_InvalidArgs(f"unknown tool `{name}`"))
        path = json.loads(args_json)["path"]
        absolute = posixpath.join(cx.cwd, path)
        try:
            data = host.read_file(absolute)
        except Err as err:
            raise Err(read_error(path, err.value))
        return types.ToolOutput(
            content=[types.Content_Text(count(data))], is_error=False, changes=[]
        )
