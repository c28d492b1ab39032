"""What the console's browser tests and benchmark share: a small HTTP client
of the gateway's API (for fixtures only: the paths under test go through the
pages), RFC 6238 codes, and a headless Chromium that checks every page it
visits (lang, title, labelled controls, no console error, no CSP violation)
and saves a screenshot of each step.

Run by console_harness (tests/web/console_harness.c), which starts the real
gateway, bus, services and PostgreSQL and sets CCIP_CONSOLE_URL,
CCIP_CONSOLE_ADMIN_TOKEN and CCIP_CONSOLE_OUT.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ.get("CCIP_CONSOLE_URL", "http://127.0.0.1:8080")
OUT = os.environ.get("CCIP_CONSOLE_OUT", "/tmp/console-out")
SOURCE = os.environ.get("CCIP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
WEB = os.path.join(SOURCE, "services", "gateway", "web")
PASSWORD = "correct horse battery"
S_5XX = re.compile(r"status of 5\d\d")
TOTP_STEP = 30
SHOT_MAX_PX = 4000  # a screenshot's greatest height


class Failure(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def catalogue(lang):
    with open(os.path.join(WEB, "i18n", f"{lang}.json"), encoding="utf-8") as f:
        return json.load(f)


ZH = catalogue("zh-CN")
EN = catalogue("en")

# ---- RFC 6238 ----------------------------------------------------------------------

_last_step = {}


def totp(secret_b32):
    """A code of the secret the gateway takes now: the current 30 s step, or
    the next one (the gateway allows one step of skew either way) when the
    current step's code was used already (each step's code is good once).
    Two codes in one step never wait; a third waits for the next step."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    now = int(time.time()) // TOTP_STEP
    step = max(now, _last_step.get(secret_b32, -1) + 1)
    if step > now + 1:
        WebDriverWait(None, 2 * TOTP_STEP, poll_frequency=0.5).until(
            lambda _: int(time.time()) // TOTP_STEP + 1 >= step)
    _last_step[secret_b32] = step
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def beijing_quarter():
    """The current quarter in Beijing, "2027Q1"."""
    t = time.gmtime(time.time() + 8 * 3600)
    return f"{t.tm_year}Q{(t.tm_mon - 1) // 3 + 1}"


def beijing_today():
    """Today's date in Beijing (UTC+8), as a date field wants it."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))


# ---- the API, for fixtures ---------------------------------------------------------------


class Api:
    """One person's session with the gateway's JSON API."""

    def __init__(self):
        self.cookie = ""
        self.csrf = ""
        self.secret = ""

    def call(self, method, path, body=None, ok=True):
        data = json.dumps(body).encode() if body is not None else None
        rq = urllib.request.Request(URL + path, data=data, method=method)
        if data is not None:
            rq.add_header("Content-Type", "application/json")
        if self.cookie:
            rq.add_header("Cookie", f"ccip_session={self.cookie}")
        if self.csrf and method != "GET":
            rq.add_header("X-CSRF-Token", self.csrf)
        try:
            with urllib.request.urlopen(rq, timeout=20) as r:
                status, text, headers = r.status, r.read().decode(), r.headers
        except urllib.error.HTTPError as e:
            status, text, headers = e.code, e.read().decode(), e.headers
        for c in headers.get_all("Set-Cookie") or []:
            if c.startswith("ccip_session="):
                self.cookie = c.split(";", 1)[0].split("=", 1)[1]
        reply = json.loads(text) if text else {}
        if ok and status != 200:
            raise Failure(f"{method} {path}: HTTP {status}: {text[:500]}")
        if isinstance(reply, dict) and reply.get("csrfToken"):
            self.csrf = reply["csrfToken"]
        return reply

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    def accept(self, token, login):
        return self.post(f"/api/v1/invitations/{token}/accept", {
            "token": token, "login": login, "name": login, "email": f"{login}@example.cn",
            "password": PASSWORD})

    def enrol_totp(self):
        r = self.post("/api/v1/account/totp", {"password": PASSWORD})
        self.secret = r["secretBase32"]
        s = self.post("/api/v1/account/totp/confirm", {"code": totp(self.secret)})
        check(s.get("secondFactor"), "TOTP confirmation gave no second factor")

    def sign_in(self, login, secret=""):
        body = {"login": login, "password": PASSWORD}
        if secret:
            body["totp"] = totp(secret)
        return self.post("/api/v1/session", body)

    def invite(self, kind, subject="", email="someone@example.cn"):
        return self.post("/api/v1/gateway/invitations", {"email": email, "kind": kind, "subject": subject})["token"]


def uscc(district="110105", seed=None):
    """A fresh valid unified social credit code (GB 32100-2015)."""
    cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    n = seed if seed is not None else (int(time.time() * 1000) * 7919 + os.getpid()) % 10**9
    body = f"91{district}{n:09d}"
    s = sum(cs.index(c) * w[i] for i, c in enumerate(body))
    return body + cs[(31 - s % 31) % 31]


def stamp():
    return f"{os.getpid() % 10000}{int(time.time() * 1000) % 1000000}"


# ---- the browser ---------------------------------------------------------------------------

CHECKS_JS = """
const problems = [];
const html = document.documentElement;
if (!html.lang) problems.push('the page has no lang attribute');
if (!document.title.trim()) problems.push('the page has no title');
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  let named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!named && el.id) named = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
  if (!named) named = el.closest('label');
  if (!named) problems.push(`a ${el.tagName.toLowerCase()} (name ${el.name || '?'}) has no label`);
}
for (const b of document.querySelectorAll('button')) {
  if (!b.textContent.trim() && !b.getAttribute('aria-label')) problems.push('a button has no text');
}
for (const t of document.querySelectorAll('table')) {
  if (!t.querySelector('caption') && !t.getAttribute('aria-label')) problems.push('a table has no caption');
}
if (!document.querySelector('h1')) problems.push('the page has no h1');
return {problems, csp: window.__ccipCsp || [], errors: window.__ccipErrors || []};
"""

# Injected before any script of every page (CDP scripts are not subject
# to the page's CSP): records CSP violations and uncaught errors.
WATCH_JS = """
window.__ccipCsp = [];
window.__ccipErrors = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__ccipCsp.push(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
window.addEventListener('error', (e) => window.__ccipErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__ccipErrors.push(String(e.reason && (e.reason.stack || e.reason.message || e.reason))));
"""


class Browser:
    """One person's headless Chromium, in a fresh profile."""

    shots = 0

    def __init__(self, who, width=1280, height=900):
        self.who = who
        self.profile = tempfile.mkdtemp(prefix=f"ccip-chromium-{who}-")
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage", f"--user-data-dir={self.profile}",
                  f"--window-size={width},{height}", "--lang=zh-CN"]:
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_JS})
        self.pages = set()

    def quit(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    # -- checks --

    def verify_page(self, step):
        """The rules every page must keep (issue 16), on the page as it is now."""
        r = self.d.execute_script(CHECKS_JS)
        logs = self.d.get_log("browser")
        # Every console error but the network's report of a refused request
        # (a 401/403/404/409 is the API's answer, shown on the page); a 5xx
        # is a failure too.
        bad = [f"console {x['level']} ({x.get('source')}): {x['message']}" for x in logs
               if (x["level"] == "SEVERE" and (x.get("source") != "network" or S_5XX.search(x["message"])))
               or "Content Security Policy" in x["message"] or "Content-Security-Policy" in x["message"]]
        problems = r["problems"] + [f"CSP violation: {c}" for c in r["csp"]] + \
            [f"uncaught error: {e}" for e in r["errors"]] + bad
        self.pages.add(self.d.execute_script("return location.hash || '#/'"))
        if problems:
            self.shot(f"{step}-FAILED")
            raise Failure(f"{self.who} at {step} ({self.d.current_url}): " + "; ".join(problems))

    def shot(self, step):
        """The whole page as a person would scroll through it (up to
        SHOT_MAX_PX high), as OUT/NNN-who-step.png."""
        Browser.shots += 1
        name = f"{Browser.shots:03d}-{self.who}-{step}.png"
        size = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        r = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], SHOT_MAX_PX), "scale": 1}})
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return name

    def step(self, name):
        """After an action: wait for the page to settle, check it, screenshot it."""
        self.settle()
        self.verify_page(name)
        self.shot(name)

    # -- navigation --

    def settle(self, timeout=15):
        WebDriverWait(self.d, timeout).until(lambda d: d.execute_script(
            "const m = document.getElementById('main');"
            "return document.readyState === 'complete' && m && m.dataset.page && m.dataset.page !== 'loading'"
            " && !document.querySelector('button:disabled');"))

    def open(self, hash_="#/"):
        """Goes to the page of hash_ and waits for it. Within the console the
        page is marked loading first, so that settle() cannot mistake the
        page being left for the one asked for."""
        if not self.d.current_url.startswith(URL):
            self.d.get(URL + "/" + hash_)
        elif self.d.execute_script("return location.hash || '#/'") == hash_:
            self.d.refresh()
        else:
            self.d.execute_script(
                "document.getElementById('main').dataset.page = 'loading'; location.hash = arguments[0]", hash_)
        self.settle()

    def reload(self):
        self.d.refresh()
        self.settle()

    def page(self):
        return self.d.execute_script("return document.getElementById('main').dataset.page")

    def wait(self, cond, what, timeout=20):
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda d: cond())
        except TimeoutException:
            self.shot("TIMEOUT")
            errors = self.d.execute_script(
                "return Array.from(document.querySelectorAll('.form-alert, .field-error, .notice'))"
                ".map(e => e.textContent).filter(Boolean).join(' | ')")
            raise Failure(f"{self.who}: timed out waiting for {what} at {self.d.current_url}; "
                          f"the page says: {errors or self.text()[:300]}")

    def until_reloaded(self, cond, what, timeout=30):
        """Reloads the page every half second until cond() holds (for effects
        that arrive by events, which a page shows when it is drawn again)."""
        def fresh(_):
            if cond():
                return True
            self.reload()
            return cond()
        try:
            WebDriverWait(self.d, timeout, poll_frequency=0.5).until(fresh)
        except TimeoutException:
            self.shot("TIMEOUT")
            raise Failure(f"{self.who}: {what} did not happen within {timeout} s") from None

    # -- controls --

    def control(self, name):
        els = self.d.find_elements(By.CSS_SELECTOR, f'[name="{name}"]')
        check(els, f"{self.who}: no control named {name} on {self.d.current_url}")
        return els[-1]

    def fill(self, name, value):
        el = self.control(name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        elif el.get_attribute("type") == "file":
            el.send_keys(value)
        else:
            el.clear()
            el.send_keys(value)
        return el

    def set_value(self, name, value):
        """For date inputs (typing a date depends on the locale's format)."""
        el = self.control(name)
        self.d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", el, value)

    def click(self, text):
        """Clicks the button or link whose text is `text`."""
        for sel in ("main button", "button", "main a", "a"):  # the page's own controls first
            for el in self.d.find_elements(By.CSS_SELECTOR, sel):
                if el.is_displayed() and el.text.strip() == text:
                    el.click()
                    return
        self.shot("NO-BUTTON")
        raise Failure(f"{self.who}: no button or link \"{text}\" on {self.d.current_url}")

    def text(self):
        return self.d.find_element(By.ID, "main").text

    def field_error(self, name):
        el = self.control(name)
        err = self.d.find_element(By.ID, el.get_attribute("id") + "-err")
        return err.text

    def sign_in(self, login, secret=""):
        self.open("#/sign-in")
        self.fill("login", login)
        self.fill("password", PASSWORD)
        if secret:
            self.fill("totp", totp(secret))
        self.click(ZH["signin.submit"] if self.lang() == "zh-CN" else EN["signin.submit"])
        self.wait(lambda: self.page() not in ("account.signIn", "loading"), "the page after signing in")
        self.step("signed-in")

    def lang(self):
        return self.d.execute_script("return document.documentElement.lang")

    def switch_to(self, lang):
        """Switches the console to lang ("zh-CN" or "en") with the header's
        button, and waits for the page drawn in it."""
        if self.lang() == lang:
            return
        self.click(ZH["lang.switch"] if self.lang() == "zh-CN" else EN["lang.switch"])
        self.wait(lambda: self.lang() == lang, f"the switch to {lang}")
        self.settle()

    def narrow(self, step, width=390):
        """The page at a phone's width: nothing wider than the screen."""
        size = self.d.get_window_size()
        self.d.set_window_size(width, 844)
        WebDriverWait(self.d, 5, poll_frequency=0.05).until(
            lambda d: d.execute_script("return window.innerWidth") <= width)
        over = self.d.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.shot(f"{step}-{width}px")
        self.d.set_window_size(size["width"], size["height"])
        WebDriverWait(self.d, 5, poll_frequency=0.05).until(
            lambda d: d.execute_script("return window.innerWidth") > width)
        check(over <= 1, f"{self.who}: {step} is {over} px wider than a {width} px screen")
