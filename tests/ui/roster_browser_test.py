#!/usr/bin/python3
"""The Watch Roster page in a real browser (Debian's chromium and
chromium-driver, driven by python3-selenium), against the real crewshipd.

  roster_browser_test.py CREWSHIPD ARTIFACT_DIR

Starts crewshipd on a free port with a fresh data dir, makes 1,000 agents in
10 crews and their presence, signs in through /ui/, and checks that every
agent is shown with its status, that a row changes data-status within 2 s of
an IPC upsert through the SSE presence stream (no roster poll), that the status and crew filters work, that the counts add
up, and that the browser reported no Content-Security-Policy violation.
Saves screenshots to ARTIFACT_DIR.
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from unix_http import UnixConnection, fail  # noqa: E402

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CREWS, PER_CREW = 10, 100
STATUSES = ["online", "busy", "blocked", "offline"]
EMAIL, PASSWORD = "ada@example.com", "correct horse battery"


class Daemon:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="crewship-ui-")
        self.log_path = self.dir + ".log"
        env = {"PATH": "/usr/bin:/bin", "CREWSHIP_DATA_DIR": self.dir, "CREWSHIP_HOST": "127.0.0.1",
               "CREWSHIP_PORT": "0", "DOCKER_HOST": "unix://" + self.dir + "/no-engine.sock",
               "CREWSHIP_ENGINE_TIMEOUT": "200ms", "CREWSHIP_LOGIN_RATE": "1000"}
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        self.port = None
        while time.time() < deadline and self.proc.poll() is None:
            text = open(self.log_path).read()
            m = re.search(r"api listening on 127\.0\.0\.1:(\d+)", text)
            if m and "ready" in text:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        if self.port is None:
            fail("crewshipd did not start:\n" + open(self.log_path).read())
        self.socket = self.dir + "/crewshipd.sock"
        self.token = open(self.dir + "/internal-token").read().strip()
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        os.unlink(self.log_path)

    def api(self, method, path, body=None, bearer=None, want=(200, 201)):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = conn.getresponse()
        data = r.read()
        if r.status not in want:
            fail("%s %s: %d %s" % (method, path, r.status, data[:300]))
        return r, (json.loads(data) if data else None)

    def presence(self, agent, status, details=None):
        conn = UnixConnection(self.socket)
        body = {"agent_id": agent, "status": status}
        if details:
            body["details"] = details
        conn.request("POST", "/api/v1/internal/presence", json.dumps(body),
                     {"Content-Type": "application/json", "X-Internal-Token": self.token})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            fail("presence %s: %d %s" % (agent, r.status, data[:200]))


def details_for(status, i):
    if status == "busy":
        return {"current_task_id": "T-%d" % i}
    if status == "blocked":
        return {"blocked_reason": "awaiting_approval", "approval_id": "req_%04d" % i}
    if status == "offline":
        return {"reason": "idle_timeout"}
    return None


def browser(artifacts):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-", dir=artifacts)]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def statuses_shown(driver):
    """{agent id: data-status} of every row, read in one go."""
    return driver.execute_script(
        "const m = {}; for (const tr of document.querySelectorAll('tr[data-agent-id]'))"
        " m[tr.dataset.agentId] = tr.dataset.status; return m;")


def visible_rows(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('tr[data-agent-id]')]"
        ".filter(tr => tr.offsetParent !== null).map(tr => [tr.dataset.agentId, tr.dataset.status]);")


def main():
    binary, artifacts = sys.argv[1], sys.argv[2]
    os.makedirs(artifacts, exist_ok=True)
    d = Daemon(binary)
    driver = None
    try:
        r, boot = d.api("POST", "/api/v1/bootstrap", {"email": EMAIL, "password": PASSWORD, "name": "Ada",
                                                       "workspace_name": "Ada Labs"})
        ws = boot["workspace"]["id"]
        jwt = re.search(r"authjs\.session-token=([^;]+)", r.getheader("Set-Cookie")).group(1)
        q = "?workspace_id=" + ws
        t0 = time.time()
        want = {}
        crew_of = {}
        n = 0
        for c in range(CREWS):
            _, crew = d.api("POST", "/api/v1/crews" + q, {"name": "Crew %02d" % c, "slug": "crew-%02d" % c},
                            bearer=jwt)
            for a in range(PER_CREW):
                _, agent = d.api("POST", "/api/v1/agents" + q,
                                 {"name": "Agent %02d-%03d" % (c, a), "slug": "agent-%02d-%03d" % (c, a),
                                  "crew_id": crew["id"]}, bearer=jwt)
                status = STATUSES[n % 4]
                d.presence(agent["id"], status, details_for(status, n))
                want[agent["id"]] = status
                crew_of[agent["id"]] = crew["id"]
                n += 1
        print("made %d agents with presence in %.1f s" % (n, time.time() - t0))

        # The page's own answers: strict CSP, no inline code.
        with urllib.request.urlopen(d.base + "/ui/roster") as page:
            csp = page.headers["Content-Security-Policy"]
            html = page.read().decode()
        if "default-src 'self'" not in csp:
            fail("CSP: %s" % csp)
        if re.search(r"<script>|<style|\sstyle=|\son\w+=", html):
            fail("inline script or style in roster.html")

        driver = browser(artifacts)
        driver.set_page_load_timeout(30)
        driver.get(d.base + "/ui/")
        driver.find_element(By.ID, "email").send_keys(EMAIL)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        t_signin = time.time()
        driver.find_element(By.ID, "signin-submit").click()
        WebDriverWait(driver, 15).until(lambda drv: "/ui/roster" in drv.current_url)
        if ("workspace_id=" + ws) not in driver.current_url:
            fail("signed in to %s" % driver.current_url)

        # Every agent, with the status presence holds.
        def all_there(drv):
            shown = statuses_shown(drv)
            return shown if len(shown) == len(want) and shown == want else False
        try:
            WebDriverWait(driver, 20, poll_frequency=0.1).until(all_there)
        except Exception:
            shown = statuses_shown(driver)
            wrong = [k for k in want if shown.get(k) != want[k]]
            fail("%d rows shown, %d differ from presence (first: %s)" % (len(shown), len(wrong), wrong[:3]))
        print("sign-in to %d rows with their status: %.2f s" % (len(want), time.time() - t_signin))
        counts = driver.execute_script(
            "const m = {}; for (const li of document.querySelectorAll('#counts li'))"
            " m[li.dataset.status] = +li.querySelector('.n').textContent; return m;")
        expect_counts = {"all": n, **{s: sum(1 for v in want.values() if v == s) for s in STATUSES}}
        if counts != expect_counts:
            fail("counts %s, want %s" % (counts, expect_counts))
        blocked_id = next(k for k, v in want.items() if v == "blocked")
        text = driver.find_element(By.CSS_SELECTOR, 'tr[data-agent-id="%s"]' % blocked_id).text
        if "awaiting_approval" not in text or "approval: req_" not in text:
            fail("blocked row's details: %r" % text)
        if not re.search(r"\d+ (s|min) ago", text):
            fail("no relative since in %r" % text)
        driver.save_screenshot(os.path.join(artifacts, "roster-all.png"))

        # A status written over IPC reaches the row within 2 s, through the
        # SSE presence stream: the page says so, and reads no roster for it.
        def live(drv):
            st = drv.execute_script("return window.crewshipRoster.stats()")
            return st if st["source"] == "stream" else False
        try:
            before = WebDriverWait(driver, 5, poll_frequency=0.05).until(live)
        except Exception:
            fail("the page is not fed by the stream: %s (%r)" % (
                driver.execute_script("return window.crewshipRoster.stats()"),
                driver.find_element(By.ID, "feed").text))
        if driver.find_element(By.ID, "feed").get_attribute("data-source") != "stream":
            fail("the page does not report its live source")
        target = next(k for k, v in want.items() if v == "online")
        t_write = time.time()
        d.presence(target, "busy", {"current_task_id": "T-live"})
        sel = 'tr[data-agent-id="%s"]' % target
        WebDriverWait(driver, 2, poll_frequency=0.02).until(
            lambda drv: drv.find_element(By.CSS_SELECTOR, sel).get_attribute("data-status") == "busy")
        took = time.time() - t_write
        if took > 2:
            fail("the row changed after %.2f s" % took)
        after = driver.execute_script("return window.crewshipRoster.stats()")
        if after["source"] != "stream" or after["polls"] != before["polls"]:
            fail("the change came by a roster read, not the stream: %s then %s" % (before, after))
        print("IPC upsert to data-status on the page, through the stream: %.3f s" % took)
        want[target] = "busy"
        if "T-live" not in driver.find_element(By.CSS_SELECTOR, sel).text:
            fail("the new details are not shown")
        announced = driver.find_element(By.ID, "announce").get_attribute("textContent")
        if "busy" not in announced:
            fail("aria-live region says %r" % announced)

        # Filters: by status, then by crew and status.
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("blocked")
        rows = visible_rows(driver)
        blocked = sorted(k for k, v in want.items() if v == "blocked")
        if sorted(r[0] for r in rows) != blocked or any(r[1] != "blocked" for r in rows):
            fail("status filter shows %d rows, want the %d blocked" % (len(rows), len(blocked)))
        driver.save_screenshot(os.path.join(artifacts, "roster-blocked.png"))
        some_crew = crew_of[target]
        Select(driver.find_element(By.ID, "filter-crew")).select_by_value(some_crew)
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("busy")
        rows = visible_rows(driver)
        expect = sorted(k for k, v in want.items() if v == "busy" and crew_of[k] == some_crew)
        if sorted(r[0] for r in rows) != expect or target not in expect:
            fail("crew+status filter shows %s, want %s" % (rows[:3], expect[:3]))
        hidden_sections = driver.execute_script(
            "return [...document.querySelectorAll('section.crew')].filter(s => !s.hidden).length")
        if hidden_sections != 1:
            fail("%d crew sections shown for one crew" % hidden_sections)
        driver.save_screenshot(os.path.join(artifacts, "roster-crew-busy.png"))
        Select(driver.find_element(By.ID, "filter-crew")).select_by_value("")
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("")
        if len(visible_rows(driver)) != n:
            fail("clearing the filters does not show every agent")

        # With nothing written, the stream stays up and no poll starts.
        time.sleep(1.5)
        if driver.execute_script("return window.crewshipRoster.stats()")["polls"] != before["polls"]:
            fail("the page polled while the stream was up")
        for entry in driver.get_log("browser"):
            if "Content Security Policy" in entry["message"] or entry["level"] == "SEVERE":
                fail("browser console: %s" % entry["message"])
        print("OK: screenshots in %s" % artifacts)
    finally:
        if driver is not None:
            driver.quit()
        d.stop()
        for name in os.listdir(artifacts):
            if name.startswith("chromium-"):
                shutil.rmtree(os.path.join(artifacts, name), ignore_errors=True)


if __name__ == "__main__":
    main()
