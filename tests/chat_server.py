"""A small loopback server that speaks the chat-completions protocol, with scripted faults.

Each request is matched to a persona by the prompt's "Persona: <Name>," line; that persona's
script (a list of behaviours) is played one step per request, then valid replies follow.
Requests are served in parallel and recorded, so tests can assert on what the server saw.
"""

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from shiporskip.panel.personas import BUNDLED_PERSONAS

PERSONAS = {p["name"]: p for p in yaml.safe_load(BUNDLED_PERSONAS.read_text())["personas"]}


# Distinct answers, one per section position: a review's sections must not copy one another
# or restate their questions (panel/sections.py).
ANSWERS = [
    "An open-weight model that runs locally through Ollama and llama.cpp on a laptop.",
    "Its makers bet that teams want weights they can host and fine-tune themselves.",
    "A first real prompt on a single consumer GPU finishes without any trouble.",
    "The permissive licence and zero price make trying it nearly free of risk.",
    "A release from a larger lab with stronger benchmarks would push it aside quickly.",
    "Long-context retrieval at scale is where its small size starts to hurt.",
]


def valid_review(persona: dict, score: int = 80, **overrides) -> dict:
    review = {
        "sections": {s["key"]: ANSWERS[i] for i, s in enumerate(persona["sections"])},
        "criteria": {c["key"]: score for c in persona["criteria"]},
        "score": score,
        "verdict": "ship" if score >= persona["ship_threshold"] else "skip",
    }
    return {**review, **overrides}


def completion(content: str, finish_reason: str = "stop") -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "test",
        "choices": [
            {"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", "content": content}}
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


class ChatServer:
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.scripts: dict[str, list] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        # shutdown() waits for serve_forever's next poll: at the default half second, every
        # test using this server paid that wait on closing.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, persona_name: str, *steps) -> None:
        self.scripts[persona_name] = list(steps)

    def requests_for(self, persona_name: str) -> list[dict]:
        return [r for r in self.requests if persona_of(r) == persona_name]

    def next_step(self, body: dict):
        name = persona_of(body)
        with self.lock:
            self.requests.append(body)
            steps = self.scripts.get(name) or []
            return (steps.pop(0) if steps else ("review",)), PERSONAS.get(name)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                step, persona = server.next_step(body)
                if server.delay:
                    time.sleep(server.delay)
                kind, *args = step
                if kind == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if kind == "hang":
                    time.sleep(args[0])
                    step = ("review",)
                    kind, args = "review", []
                if kind == "review":
                    self.send_json(200, completion(json.dumps(valid_review(persona, *args))))
                elif kind == "reply":
                    self.send_json(200, completion(*args))
                elif kind == "status":
                    code, headers = args[0], args[1] if len(args) > 1 else {}
                    message = args[2] if len(args) > 2 else "scripted failure"
                    self.send_json(code, {"error": {"message": message, "type": "test"}}, headers)
                elif kind == "raw":
                    self.send_raw(200, args[0].encode(), "text/html")

            def send_json(self, code, payload, headers=None):
                self.send_raw(code, json.dumps(payload).encode(), "application/json", headers)

            def send_raw(self, code, data, content_type, headers=None):
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def persona_of(body: dict) -> str | None:
    prompt = body["messages"][0]["content"]
    match = re.search(r"^Persona: ([^,]+),", prompt, re.M)
    return match.group(1) if match else None
