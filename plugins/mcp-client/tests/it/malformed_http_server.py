"""A streamable-HTTP MCP server on 127.0.0.1 (its port on the first line of
stdout) with one tool, `echo`, whose answer argv[1] spoils: a 20 MiB body
or event (`huge-json`, `huge-sse`), JSON nested 200 levels deep
(`deep-json`, `deep-sse`), or something that is not JSON-RPC
(`garbage-json`, `garbage-sse`)."""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
MODE = sys.argv[1]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self): self.reply(405)
    def do_DELETE(self): self.reply(200)
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        method, id = body.get("method"), body.get("id")
        if id is None: return self.reply(202)
        params = body.get("params") or {}
        if method == "initialize":
            result = {"protocolVersion": params.get("protocolVersion"), "capabilities": {"tools": {}}, "serverInfo": {"name": "h", "version": "1"}}
        elif method == "tools/list":
            result = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
        elif MODE == "huge-json":
            return self.reply(200, json.dumps({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "x" * (20 << 20)}]}}).encode())
        elif MODE == "deep-json":
            return self.reply(200, ('{"jsonrpc":"2.0","id":%s,"result":{"content":[],"x":%s%s}}' % (json.dumps(id), "[" * 200, "]" * 200)).encode())
        elif MODE == "garbage-json":
            return self.reply(200, b"<html>oops</html>")
        elif MODE == "huge-sse":
            data = json.dumps({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": "x" * (20 << 20)}]}})
            return self.reply(200, ("data: " + data + "\n\n").encode(), "text/event-stream")
        elif MODE == "deep-sse":
            data = '{"jsonrpc":"2.0","id":%s,"result":{"content":[],"x":%s%s}}' % (json.dumps(id), "[" * 200, "]" * 200)
            return self.reply(200, ("data: " + data + "\n\n").encode(), "text/event-stream")
        elif MODE == "garbage-sse":
            return self.reply(200, b"data: oops \x1b[2J\n\n", "text/event-stream")
        else:
            result = {"content": [{"type": "text", "text": "ok"}]}
        self.reply(200, json.dumps({"jsonrpc": "2.0", "id": id, "result": result}).encode())
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
