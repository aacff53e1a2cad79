// {{tool}}: a wharf tool written in JavaScript, built with componentize-js.
//
// It reads the file through the host's `read-file` import (one host call,
// checked against the plugin's read grant), not through WASI's filesystem.

import { readFile } from 'wharf:plugin/host@0.1.0';

const SCHEMA = {
  type: 'object',
  properties: {
    path: {
      type: 'string',
      description: 'The file to count, relative to the working directory',
    },
  },
  required: ['path'],
  additionalProperties: false,
};

function plural(count, word) {
  return count === 1 ? `${count} ${word}` : `${count} ${word}s`;
}

// The ASCII whitespace bytes Python's `bytes.split()` splits on, so that
// both examples count the same words.
const SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

// Lines: newlines, plus an unterminated last line. Words: runs of bytes
// that are not ASCII whitespace.
function count(data) {
  let lines = 0;
  let words = 0;
  let inWord = false;
  for (const byte of data) {
    if (byte === 0x0a) lines += 1;
    const space = SPACE.has(byte);
    if (!space && !inWord) words += 1;
    inWord = !space;
  }
  if (data.length > 0 && data[data.length - 1] !== 0x0a) lines += 1;
  return `${plural(lines, 'line')}, ${plural(words, 'word')}`;
}

// `path` resolved against the call's working directory. The host refuses
// what leaves the read grant, `..` and symlinks included.
function resolve(cwd, path) {
  return path.startsWith('/') ? path : `${cwd.replace(/\/$/, '')}/${path}`;
}

// A `read-error` (thrown by `readFile` as an error whose `payload` is the
// variant) as the `tool-error` to answer with.
function readError(path, error) {
  const payload = error?.payload;
  switch (payload?.tag) {
    case 'not-found':
      return { tag: 'failed', val: `${path}: no such file` };
    case 'denied':
      return { tag: 'denied', val: payload.val };
    case 'failed':
      return { tag: 'failed', val: payload.val };
    default:
      return { tag: 'failed', val: `${path}: ${error}` };
  }
}

// The `tool` interface of the world `plugin`: an object named after it
// (camelCase), with one function per WIT function. A `result` is returned
// when ok; throwing a plain object (a `tool-error` variant) makes the err.
export const tool = {
  describe() {
    return [
      {
        name: '{{tool}}',
        description: 'Count the lines and words of a file',
        inputSchema: JSON.stringify(SCHEMA),
        freeformGrammar: undefined,
        requires: [],
      },
    ];
  },

  invoke(cx, name, argsJson) {
    if (name !== '{{tool}}') {
      throw { tag: 'invalid-args', val: `unknown tool \`${name}\`` };
    }
    const { path } = JSON.parse(argsJson);
    let data;
    try {
      data = readFile(resolve(cx.cwd, path));
    } catch (error) {
      throw readError(path, error);
    }
    return {
      content: [{ tag: 'text', val: count(data) }],
      isError: false,
      changes: [],
    };
  },
};
