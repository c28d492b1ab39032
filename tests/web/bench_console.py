#!/usr/bin/env python3
"""scripts/bench console: how fast the console draws its two heaviest pages,
in real headless Chromium against the real gateway, bus and services
(console_harness starts them, as for the browser tests).

The data is made through the API first, as the demo makes it: an
organisation with a complete application (two documents), accepted, with
its case assigned, reviewed by an expert, reported on by an agency and
submitted to the office. Then, for the applicant's application page and the
office's dossier page, LOADS loads of the page in one signed-in browser
(each a full navigation from about:blank, the browser's cache warm as it is
for a person who comes back): the time from the navigation's start to the
page drawn with its data (#main's data-page set by app.js), the median and
the worst. The page weight is what a first visit (an empty cache) transfers
of HTML, CSS and JavaScript for the applicant's page, headers included.

Last line: bench console: app_page_ms=... dossier_ms=... page_kib=...
(targets: each median under 300 ms, page_kib under 200).
"""
import os
import statistics
import sys
import time
import urllib.request

from selenium.webdriver.support.ui import WebDriverWait

from console_test import PASSWORD, URL, ZH, Api, Browser, check, stamp, totp, uscc

LOADS = int(os.environ.get("CCIP_BENCH_CONSOLE_LOADS", "20"))
HOUR_US = 3600 * 1000000
KIND = "CLUSTER_IDENTIFICATION"
DOCS = ["business_licence", "site_plan"]

# Set when #main first shows a drawn page (not "loading"), in ms since the
# navigation started; injected before any script of the page.
DRAWN_JS = """
window.__ccipDrawn = 0;
new MutationObserver(() => {
  const m = document.getElementById('main');
  if (!window.__ccipDrawn && m && m.dataset.page && m.dataset.page !== 'loading') window.__ccipDrawn = performance.now();
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-page']});
"""

# What a load transferred of HTML, CSS and JavaScript (bytes, headers
# included): the document and the style sheets and modules under /static/.
WEIGHT_JS = """
const nav = performance.getEntriesByType('navigation')[0];
let n = nav.transferSize, files = 1;
for (const r of performance.getEntriesByType('resource')) {
  if (/\\/static\\/.*\\.(js|css)$/.test(new URL(r.name).pathname)) { n += r.transferSize; files += 1; }
}
return [n, files];
"""


def until(cond, what, timeout=30):
    """Polls the API until cond() is true (an event's effect); returns it."""
    return WebDriverWait(None, timeout, poll_frequency=0.2).until(lambda _: cond(), f"timed out waiting for {what}")


def upload(api, app_id, doc):
    rq = urllib.request.Request(
        f"{URL}/api/v1/intake/applications/{app_id}/documents?doc_type={doc}&name={doc}.pdf",
        data=f"%PDF-1.4 {doc}\n".encode(), method="POST")
    rq.add_header("Content-Type", "application/pdf")
    rq.add_header("Cookie", f"ccip_session={api.cookie}")
    rq.add_header("X-CSRF-Token", api.csrf)
    with urllib.request.urlopen(rq, timeout=20) as r:
        check(r.status == 200, f"upload of {doc}: HTTP {r.status}")


def make_data():
    """The demo's path through the API; returns (applicant login, application id,
    office api, case id)."""
    s = stamp()
    admin = Api()
    admin.accept(os.environ["CCIP_CONSOLE_ADMIN_TOKEN"], f"admin.{s}")
    admin.enrol_totp()

    def person(kind, subject, login, second=False):
        a = Api()
        a.accept(admin.invite(kind, subject), login)
        a.login = login
        if second:
            a.enrol_totp()
        return a

    staff = person("STAFF", "", f"staff.{s}", True)
    office = person("OFFICE", "", f"office.{s}", True)
    now = int(time.time()) * 1000000
    call = staff.post("/api/v1/intake/calls", {
        "kind": KIND, "year": 2027, "title": f"2027 文化创意产业集聚区认定（{s}）", "opensAtUs": str(now - HOUR_US),
        "closesAtUs": str(now + 30 * 24 * HOUR_US), "requiredDocuments": DOCS})["call"]
    staff.post("/api/v1/evaluation/sheets", {
        "kind": KIND, "panelSize": 1, "passThresholdCenti": 6000, "fields": ["design"],
        "criteria": [{"code": "innovation", "title": "创新性", "weight": 60, "maxScore": 100},
                     {"code": "operation", "title": "运营管理", "weight": 40, "maxScore": 100}]})
    expert_id, agency_id = f"EX-{s}", f"AG-{s}"
    staff.post("/api/v1/evaluation/experts", {
        "id": expert_id, "name": "王专家", "fields": ["design"], "affiliationUscc": uscc("110108", 7),
        "affiliationName": "某设计研究院", "district": "110108", "maxConcurrentReviews": 5,
        "phone": "13800138000", "email": f"expert.{s}@example.cn"})
    staff.post("/api/v1/evaluation/agencies", {
        "id": agency_id, "name": "某评估机构", "uscc": uscc("110102", 11), "qualification": "甲级",
        "districtsServed": ["all"], "capacity": 5})

    code = uscc("110105")
    app = Api()
    login = f"wang.{s}"
    app.post("/api/v1/accounts", {"login": login, "name": "王芳", "email": f"{login}@example.cn",
                                  "password": PASSWORD, "organisationUscc": code})
    app.post("/api/v1/session", {"login": login, "password": PASSWORD})
    app.post("/api/v1/intake/organisations", {
        "uscc": code, "name": "朗园文化发展有限公司", "type": "ENTERPRISE", "district": "110105",
        "legalRepresentative": "王芳", "contactName": "李明", "contactPhone": "010-6512 3456"})
    staff.post(f"/api/v1/intake/organisations/{code}/verify", {"note": "营业执照已核对"})
    until(lambda: any(b["status"] == "ACTIVE" for b in app.get("/api/v1/session")["account"]["bindings"]),
          "the applicant's binding confirmed")
    a = app.post("/api/v1/intake/applications", {"callId": call["id"], "applicantUscc": code, "content": {
        "title": "朗园 Station 数字文化集聚区", "summary": "以老厂房改造的文化创意产业集聚区，聚集设计、影视与数字内容企业。",
        "district": "110105", "cluster": {"clusterName": "朗园 Station", "location": "朝阳区朗家园 6 号", "areaM2": "60000",
                                          "enterpriseCount": 120, "employeeCount": 3500, "leadOperator": "朗园文化发展有限公司"}}})
    app_id = a["application"]["id"]
    for d in DOCS:
        upload(app, app_id, d)
    app.post(f"/api/v1/intake/applications/{app_id}/submit", {})
    staff.post(f"/api/v1/intake/applications/{app_id}/accept", {"reason": "材料齐全"})
    case = until(lambda: [c for c in staff.get("/api/v1/evaluation/cases").get("cases", [])
                          if c["applicationId"] == app_id], "the case opened by evaluation")[0]
    cp = f"/api/v1/evaluation/cases/{case['id']}"
    staff.post(cp + "/assignment", {"picks": [{"kind": "AGENCY", "id": agency_id}, {"kind": "EXPERT", "id": expert_id}]})
    ex = person("EXPERT", expert_id, f"expert.{s}")
    ex.post(cp + "/review/declare", {"conflict": False})
    ex.post(cp + "/review", {"sheetVersion": 1, "comment": "建议认定。", "scores": [
        {"criterion": "innovation", "score": 88, "comment": "改造利用充分，业态新颖。"},
        {"criterion": "operation", "score": 80, "comment": "运营团队稳定。"}]})
    ag = person("AGENCY", agency_id, f"agency.{s}")
    ag.post(cp + "/investigation/report", {
        "visitDateUs": str(now), "findings": "现场查看了园区的 12 栋建筑，入驻率 92%，配套完善。", "verdict": "VERDICT_MEETS",
        "documents": [{"name": "site-photos.jpg", "sha256": "ab" * 32, "mediaType": "image/jpeg"}]})
    staff.post(cp + "/submit", {"note": "考察与评审均已完成"})
    return login, app_id, office, case["id"]


def drawn_ms(b, hash_):
    """Loads hash_ from a blank page; ms from the navigation's start to the
    page drawn with its data."""
    b.d.get("about:blank")
    b.d.get(f"{URL}/{hash_}")
    WebDriverWait(b.d, 20, poll_frequency=0.01).until(lambda d: d.execute_script("return window.__ccipDrawn"))
    page = b.page()
    check(page not in ("error", "denied", "notfound"), f"{hash_} drew page {page}")
    return b.d.execute_script("return window.__ccipDrawn")


def measure(b, hash_):
    drawn_ms(b, hash_)  # once to warm the cache, as a returning person's
    return [drawn_ms(b, hash_) for _ in range(LOADS)]


def main():
    login, app_id, office, case_id = make_data()
    people = []
    try:
        app = Browser("bench-applicant")
        people.append(app)
        app.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DRAWN_JS})
        app.open("#/sign-in")
        app.fill("login", login)
        app.fill("password", PASSWORD)
        app.click(ZH["signin.submit"])
        app.wait(lambda: app.page() == "applicant.applications", "the applicant signed in")
        # A first visit of the application page (the cache emptied): what it transfers.
        app.d.execute_cdp_cmd("Network.clearBrowserCache", {})
        drawn_ms(app, f"#/applications/{app_id}")
        weight, files = app.d.execute_script(WEIGHT_JS)
        app_ms = measure(app, f"#/applications/{app_id}")
        off = Browser("bench-office")
        people.append(off)
        off.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": DRAWN_JS})
        off.open("#/sign-in")
        off.fill("login", office.login)
        off.fill("password", PASSWORD)
        off.fill("totp", totp(office.secret))
        off.click(ZH["signin.submit"])
        off.wait(lambda: off.page() == "office.cases", "the office signed in")
        dossier_ms = measure(off, f"#/office/cases/{case_id}")
    finally:
        for b in people:
            b.quit()
    a, d = statistics.median(app_ms), statistics.median(dossier_ms)
    print(f"application page: median {a:.0f} ms, worst {max(app_ms):.0f} ms of {LOADS} loads")
    print(f"dossier page: median {d:.0f} ms, worst {max(dossier_ms):.0f} ms of {LOADS} loads")
    print(f"first visit: {files} files of HTML, CSS and JavaScript, {weight} bytes")
    print(f"bench console: app_page_ms={a:.0f} dossier_ms={d:.0f} page_kib={weight / 1024:.1f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(main())
