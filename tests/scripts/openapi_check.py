#!/usr/bin/python3
"""The OpenAPI documents crewshipd serves, checked against a validator and
against real answers.

  openapi_check.py validate CREWSHIPD VALIDATE_API
      Starts crewshipd, fetches GET /api/v1/openapi.json (TCP, no auth) and
      GET /api/v1/internal/openapi.json (the socket, internal token), and runs
      npm's @seriousme/openapi-schema-validator (validate-api) on each.

  openapi_check.py bodies CREWSHIPD EXCHANGES...
      EXCHANGES are the JSON lines the e2e harness records with
      CREWSHIP_TEST_EXCHANGES set (tests/support/harness.cc). Each recorded
      answer must have its status documented for its route and method, a
      documented content type, and a JSON body valid against the schema of
      that status in the document the real binary served (Debian's
      python3-jsonschema, draft 2020-12). Objects that list their properties
      are checked as closed: a member the document does not name fails too.
      Routes no test called are listed as a report, not a failure.
"""
import copy
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from unix_http import UnixConnection, fail  # noqa: E402




def served_documents(binary):
    """Both documents, as the real binary serves them: (public, internal)."""
    data = tempfile.mkdtemp(prefix="crewship-openapi-")
    log_path = data + ".log"
    env = {"PATH": "/usr/bin:/bin", "CREWSHIP_DATA_DIR": data, "CREWSHIP_HOST": "127.0.0.1",
           "CREWSHIP_PORT": "0", "DOCKER_HOST": "unix://" + data + "/no-engine.sock",
           "CREWSHIP_ENGINE_TIMEOUT": "200ms"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        deadline = time.time() + 20
        while time.time() < deadline and proc.poll() is None:
            text = open(log_path).read()
            m = re.search(r"api listening on 127\.0\.0\.1:(\d+)", text)
            if m and "ready" in text:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if port is None:
            fail("crewshipd did not start:\n" + open(log_path).read())
        warnings = [l for l in open(log_path).read().splitlines() if "openapi:" in l]
        for w in warnings:
            print("daemon: " + w)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/api/v1/openapi.json")
        r = c.getresponse()
        public = r.read()
        if r.status != 200 or not r.getheader("Content-Type", "").startswith("application/json"):
            fail("GET /api/v1/openapi.json: %d %s" % (r.status, r.getheader("Content-Type")))
        token = open(data + "/internal-token").read().strip()
        u = UnixConnection(data + "/crewshipd.sock")
        u.request("GET", "/api/v1/internal/openapi.json", headers={"X-Internal-Token": token})
        r = u.getresponse()
        internal = r.read()
        if r.status != 200:
            fail("GET /api/v1/internal/openapi.json: %d" % r.status)
        u = UnixConnection(data + "/crewshipd.sock")
        u.request("GET", "/api/v1/internal/openapi.json")
        r = u.getresponse()
        r.read()
        if r.status != 401:
            fail("the internal document without a token: %d, not 401" % r.status)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/api/v1/internal/openapi.json")
        r = c.getresponse()
        r.read()
        if r.status != 404:
            fail("the internal document on the public port: %d, not 404" % r.status)
        return json.loads(public), json.loads(internal)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)
        os.unlink(log_path)


def validate(binary, validator):
    if not os.access(validator, os.X_OK):
        fail(validator + " is missing: scripts/deps.sh test installs @seriousme/openapi-schema-validator")
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in zip(("public", "internal"), served_documents(binary)):
            path = os.path.join(tmp, name + ".json")
            with open(path, "w") as f:
                json.dump(doc, f)
            r = subprocess.run([validator, path], capture_output=True, text=True)
            out = (r.stdout + r.stderr).strip()
            print("%s document (%d paths): %s" % (name, len(doc["paths"]), " ".join(out.split())[:200]))
            if r.returncode == 0 and doc.get("openapi") == "3.1.0":
                passed += 1
            else:
                failed += 1
                print("FAIL: the %s document is not valid OpenAPI 3.1:\n%s" % (name, out), file=sys.stderr)
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def closed(node):
    """Every object schema that lists properties, without additionalProperties: closed."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node and "patternProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            closed(v)
    elif isinstance(node, list):
        for v in node:
            closed(v)
    return node


class Document:
    def __init__(self, doc):
        from jsonschema import Draft202012Validator, RefResolver
        self.doc = closed(copy.deepcopy(doc))
        self.resolver = RefResolver.from_schema(self.doc)
        self.Validator = Draft202012Validator
        self.templates = list(doc["paths"])

    def match(self, path):
        """The template that serves path, as the router picks it: a literal
        segment wins over a capture at the first place they differ."""
        parts = path.split("/")[1:]
        best = None
        for template in self.templates:
            tsegs = template.split("/")[1:]
            if len(tsegs) != len(parts):
                continue
            key, ok = [], True
            for t, p in zip(tsegs, parts):
                capture = t.startswith("{") and t.endswith("}")
                ok = ok and (p != "" if capture else t == p)
                key.append(1 if capture else 0)
            if ok and (best is None or key < best[0]):
                best = (key, template)
        return best[1] if best else None

    def response(self, template, method, status):
        op = self.doc["paths"].get(template, {}).get(method)
        if op is None:
            return None, None
        responses = op["responses"]
        r = responses.get(str(status), responses.get("default"))
        if r is not None and "$ref" in r:
            r = self.resolver.resolve(r["$ref"])[1]
        return op, r

    def errors(self, schema, value):
        v = self.Validator(schema, resolver=self.resolver)
        return sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))


def media(t):
    return t.split(";")[0].strip().lower()


def bodies(binary, paths):
    docs = dict(zip(("api", "ipc"), (Document(d) for d in served_documents(binary))))
    lines = []
    for p in paths:
        if os.path.exists(p):
            with open(p) as f:
                lines += [json.loads(l) for l in f if l.strip()]
    if not lines:
        fail("no exchanges recorded in %s: the e2e tests record them with CREWSHIP_TEST_EXCHANGES" % " ".join(paths))
    checked = 0
    failures = {}  # (listener, method, template, status) -> [first message, count]
    unmatched = {}
    seen = {"api": set(), "ipc": set()}
    for ex in lines:
        method = ex["method"].lower()
        if method == "head":
            continue
        d = docs[ex["listener"]]
        path = urllib.parse.urlsplit(ex["target"]).path
        template = d.match(path)
        op, resp = d.response(template, method, ex["status"]) if template else (None, None)
        if op is None:
            key = (ex["listener"], ex["method"], path if template is None else template, ex["status"])
            unmatched[key] = unmatched.get(key, 0) + 1
            continue
        seen[ex["listener"]].add((method, template))
        where = (ex["listener"], ex["method"], template, ex["status"])

        def problem(msg):
            entry = failures.setdefault(where, [msg, 0])
            entry[1] += 1

        if resp is None:
            problem("status %d is not documented (documented: %s)" % (ex["status"], ", ".join(op["responses"])))
            continue
        content = resp.get("content", {})
        got = media(ex["type"])
        if not content:
            if got and ex["body"]:
                problem("a %s body where the document has none" % got)
            else:
                checked += 1
            continue
        types = {media(k): v for k, v in content.items()}
        if got not in types:
            problem("content type %r, documented: %s" % (ex["type"], ", ".join(content)))
            continue
        if ex["body"] is None or "json" not in got:
            checked += 1
            continue
        try:
            value = json.loads(ex["body"])
        except ValueError as e:
            problem("the body is no JSON: %s" % e)
            continue
        errs = d.errors(types[got].get("schema", {}), value)
        if errs:
            e = errs[0]
            problem("%s at /%s (%d errors); body: %s" % (e.message[:300], "/".join(map(str, e.absolute_path)),
                                                         len(errs), ex["body"][:300]))
        else:
            checked += 1

    print("%d exchanges recorded, %d answers matched their documented status, content type and schema" %
          (len(lines), checked))
    if unmatched:
        print("\nrequests of no documented operation (unknown paths and methods; not checked):")
        for (listener, method, path, status), n in sorted(unmatched.items()):
            print("  %s %s %s -> %d (x%d)" % (listener, method, path, status, n))
    print("\nroutes no test called (a report, not a failure):")
    for listener, d in docs.items():
        for template, ops in d.doc["paths"].items():
            for method in ops:
                if (method, template) not in seen[listener]:
                    print("  %s %s %s" % (listener, method.upper(), template))
    for (listener, method, template, status), (msg, n) in sorted(failures.items()):
        print("FAIL: %s %s %s -> %d (x%d): %s" % (listener, method, template, status, n, msg), file=sys.stderr)
    print("%d passed, %d failed" % (checked, sum(n for _, n in failures.values())))
    return not failures


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "validate":
        return 0 if validate(sys.argv[2], sys.argv[3]) else 1
    if len(sys.argv) >= 4 and sys.argv[1] == "bodies":
        return 0 if bodies(sys.argv[2], sys.argv[3:]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
