#!/bin/sh
# A PreToolUse command hook (codex's format, as wharf runs it): refuses a
# tool call whose arguments name a file that usually holds a secret (.env
# files, SSH keys, .pem and .key files). wharf gives the call as JSON on
# stdin; exit 2 refuses it, and what this prints on stderr is the reason
# the model reads. Exit 0 lets the call go on.
input=$(cat)
pattern='(^|[^A-Za-z0-9_])(\.env(\.[A-Za-z0-9_]+)?|id_(rsa|ed25519|ecdsa)|[A-Za-z0-9_-]+\.(pem|key))([^A-Za-z0-9_]|$)'
if printf '%s' "$input" | grep -Eq "$pattern"; then
    echo "this call names a file that may hold a secret (.env, an SSH key, a .pem or .key file); ask the user to share what you need from it instead" >&2
    exit 2
fi
exit 0
