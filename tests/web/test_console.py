#!/usr/bin/env python3
"""The web console's rules (issue 16), in real headless Chromium against the
real gateway, bus, services and PostgreSQL (console_harness starts them).

  1. the JavaScript ports (USCC check, money, Beijing time) against the same
     cases as the C code (tests/web/uscc_cases.tsv);
  2. the whole path through the pages only: an applicant signs up, registers
     the organisation, staff verify it, the applicant files a complete
     application with two uploaded documents, staff accept it, an expert and
     an agency see it, score it and report on it, staff submit it, the
     office approves, the applicant sees the approval in its timeline;
  3. a field error from a service (a bad credit code, a submission after the
     call closed) shown next to its field, in Chinese (translated, the
     service's sentence beside it) and in English;
  4. another organisation's application opened by a user of another
     organisation: the "not allowed" page, not the data;
  5. public pages: open calls, bulletins, listings, providers, and an IP
     receipt checked in the browser (a good one, a tampered one);
  6. the designated cluster's quarterly report: its operator (the
     applicant) fills it in (a value refused as typed, the service's finding
     at its indicator), the district reviews it, the center accepts it, the
     analyst sees it complete, reads the analysis and publishes the
     bulletin, which anyone then reads with its charts;
  7. the language switch: the console in English (nothing of its own text
     left in Chinese), kept across a reload, and back;
  8. a special-fund project's award (its evaluation through the API: test 2
     walks those pages): staff confirm and sign it and request the first
     tranche's payment, finance gives the second approval (the first made
     through the API), the applicant sees the tranche paid and files its
     final use-of-funds report, staff accept it (the last tranche may be
     requested), schedule the completion inspection and record its finding;
  9. intellectual property: the applicant registers a work (its receipt
     offered for download), lists it; another organisation makes an offer;
     the applicant accepts it and records the contract's settlement;
and on every page visited: a lang attribute, a title, labelled controls, no
console error and no CSP violation (Browser.verify_page). Accounts that are
not under test (admin, staff, office, analyst, district) and the registers (call, score sheet,
expert, agency) are made through the API as fixtures.

A screenshot of every step (the whole page) is saved in CCIP_CONSOLE_OUT
(build/tests/web/console-shots): look at them. CCIP_CONSOLE_TESTS="ports
language" scripts/test -R test_console runs some of the tests.
"""
import os
import sys
import time
import traceback

from console_test import (EN, OUT, PASSWORD, URL, ZH, Api, Browser, Failure, beijing_quarter,
                          beijing_today, check, stamp, totp, uscc)

HOUR_US = 3600 * 1000000
DAY_US = 24 * HOUR_US
DOCS = ["business_licence", "site_plan"]
KIND = "CLUSTER_IDENTIFICATION"
DISTRICT = "110105"


class World:
    """The fixtures: people and registers made through the API."""

    def __init__(self):
        self.s = stamp()
        self.admin = Api()
        self.admin.accept(os.environ["CCIP_CONSOLE_ADMIN_TOKEN"], f"admin.{self.s}")
        self.admin.enrol_totp()
        self.staff = self.person("STAFF", "", f"staff.{self.s}", totp_=True)
        self.office = self.person("OFFICE", "", f"office.{self.s}", totp_=True)
        self.analyst = self.person("ANALYST", "", f"analyst.{self.s}", totp_=True)
        self.district = self.person("DISTRICT", DISTRICT, f"district.{self.s}")
        now = int(time.time()) * 1000000
        self.call = self.open_call(f"2027 集聚区认定（浏览器测试 {self.s}）", now)
        self.call_b = self.open_call(f"2027 集聚区认定（截止测试 {self.s}）", now)
        self.staff.post("/api/v1/evaluation/sheets", {
            "kind": KIND, "panelSize": 1, "passThresholdCenti": 6000, "fields": ["design"],
            "criteria": [{"code": "innovation", "title": "创新性", "weight": 60, "maxScore": 100},
                         {"code": "operation", "title": "运营管理", "weight": 40, "maxScore": 100}]})
        self.expert_id = f"EX-{self.s}"
        self.agency_id = f"AG-{self.s}"
        self.staff.post("/api/v1/evaluation/experts", {
            "id": self.expert_id, "name": "王专家", "fields": ["design"], "affiliationUscc": uscc("110108", 7),
            "affiliationName": "某设计研究院", "district": "110108", "maxConcurrentReviews": 5,
            "phone": "13800138000", "email": f"expert.{self.s}@example.cn"})
        # A second expert of the same field, assigned to nothing: it must not
        # read the application the first one judges (intake's readers).
        self.expert2_id = f"EX2-{self.s}"
        self.staff.post("/api/v1/evaluation/experts", {
            "id": self.expert2_id, "name": "李专家", "fields": ["design"], "affiliationUscc": uscc("110108", 8),
            "affiliationName": "某规划设计院", "district": "110108", "maxConcurrentReviews": 5,
            "phone": "13800138001", "email": f"expert2.{self.s}@example.cn"})
        self.staff.post("/api/v1/evaluation/agencies", {
            "id": self.agency_id, "name": "某评估机构", "uscc": uscc("110102", 11), "qualification": "甲级",
            "districtsServed": ["all"], "capacity": 5})

    def person(self, kind, subject, login, totp_=False):
        a = Api()
        a.accept(self.admin.invite(kind, subject), login)
        a.login = login
        if totp_:
            a.enrol_totp()
        return a

    def open_call(self, title, now):
        return self.staff.post("/api/v1/intake/calls", {
            "kind": KIND, "year": 2027, "title": title, "opensAtUs": str(now - HOUR_US),
            "closesAtUs": str(now + 30 * DAY_US), "requiredDocuments": DOCS})["call"]


def write_doc(name, text):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# ---- 1. the JavaScript ports ---------------------------------------------------------------

PORTS_JS = """
const done = arguments[arguments.length - 1];
const base = document.querySelector('script[type=module]').src.replace(/js\\/app\\.js$/, '');
Promise.all([import(base + 'js/validate.js'), import(base + 'js/format.js'), import(base + 'js/i18n.js')])
  .then(([v, f, i]) => {
    const cases = arguments[0];
    const out = {uscc: cases.map(([code, want]) => { const r = v.usccCheck(code); return [code, want, r ? r.rule : 'ok']; })};
    out.money = [f.money('123456789'), f.money('-5'), f.money('0'), f.money('9007199254740993'),
                 f.yuanToFen('1,234.5'), f.yuanToFen('0.01'), f.yuanToFen('1.234'), f.yuanToFen('abc')];
    out.time = [f.dateTime('1796000000123456'), f.dateToUs('2027-01-01')];
    out.district = f.districtName('110105');
    done(out);
  }).catch((e) => done({error: String(e)}));
"""


def test_ports(b):
    b.open("#/")
    cases = []
    with open(os.path.join(os.path.dirname(__file__), "uscc_cases.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                code, want = line.split("\t")
                cases.append([code, want])
    r = b.d.execute_async_script(PORTS_JS, cases)
    check("error" not in r, f"the modules did not load: {r.get('error')}")
    bad = [f"{c!r}: JS says {got}, the cases say {want}" for c, want, got in r["uscc"] if got != want]
    check(not bad, "usccCheck disagrees with the cases: " + "; ".join(bad))
    check(r["money"] == ["¥1,234,567.89", "-¥0.05", "¥0.00", "¥90,071,992,547,409.93",
                         "123450", "1", None, None], f"money: {r['money']}")
    # 1796000000123456 us = 2026-11-30 00:53:20 UTC = 08:53 in Beijing; 2027-01-01
    # 00:00 in Beijing = 2026-12-31 16:00 UTC
    check(r["time"] == ["2026-11-30 08:53", "1798732800000000"], f"Beijing time: {r['time']}")
    check(r["district"] == "朝阳区", f"district name: {r['district']}")
    b.step("ports-checked")


# ---- 2. the whole path through the pages ------------------------------------------------------

def test_path(w, people):
    app = people["applicant"] = Browser("applicant")
    login = f"wang.{w.s}"
    code = uscc(DISTRICT)
    w.org_a = code
    # Signs up through the page, asking to be a user of a new organisation.
    app.open("#/")
    app.step("home")
    app.click(ZH["nav.sign_up"])
    app.step("sign-up")
    app.fill("login", login)
    app.fill("name", "王芳")
    app.fill("email", f"{login}@example.cn")
    app.fill("password", PASSWORD)
    app.fill("organisation_uscc", code)
    app.click(ZH["signup.submit"])
    app.wait(lambda: app.page() == "applicant.org", "the organisation page after signing up")
    app.step("org-register-form")
    app.narrow("org-register-form")
    app.fill("name", f"朗园文化发展有限公司 {w.s}")
    app.fill("type", "ENTERPRISE")
    app.fill("district", DISTRICT)
    app.fill("legal_representative", "王芳")
    app.fill("contact_name", "李明")
    app.fill("contact_phone", "010-6512 3456")
    app.fill("contact_email", f"office.{w.s}@example.cn")
    app.click(ZH["org.register_submit"])
    app.wait(lambda: ZH["org.unverified"] in app.text(), "the registered organisation")
    app.step("org-registered")

    # Staff verify it through their page.
    staff = people["staff"] = Browser("staff")
    staff.sign_in(w.staff.login, w.staff.secret)
    staff.click(ZH["nav.orgs"])
    staff.step("orgs")
    staff.fill("uscc", code)
    staff.click(ZH["orgs.find"])
    staff.wait(lambda: staff.d.find_elements("css selector", '[name="note"]'), "the organisation found")
    staff.step("org-found")
    staff.fill("note", "营业执照已核对")
    staff.click(ZH["orgs.verify"])
    staff.wait(lambda: "已核验" in staff.text(), "the verification")
    staff.step("org-verified")

    # The applicant's binding is confirmed by the gateway (intake's event).
    app.until_reloaded(lambda: ZH["org.verified"].split("{")[0] in app.text(), "the verification seen by the applicant")
    app.step("org-verified-seen")

    # Files a complete application: content, a draft, two documents, submit.
    app.open("#/")
    app.click(ZH["nav.apply"])
    app.step("apply-choose")
    app.fill("call_id", w.call["id"])
    app.wait(lambda: app.d.find_elements("css selector", '[name="content.title"]'), "the application form")
    app.step("apply-form")
    app.fill("content.title", "朗园 Station 数字文化集聚区")
    app.fill("content.summary", "以老厂房改造的文化创意产业集聚区，聚集设计、影视与数字内容企业。")
    app.fill("content.cluster.cluster_name", "朗园 Station")
    app.fill("content.cluster.location", "朝阳区朗家园 6 号")
    app.fill("content.cluster.area_m2", "60000")
    app.fill("content.cluster.enterprise_count", "120")
    app.fill("content.cluster.employee_count", "3500")
    app.fill("content.cluster.lead_operator", "朗园文化发展有限公司")
    app.narrow("apply-form")
    app.click(ZH["apply.save_draft"])
    app.wait(lambda: app.page() == "applicant.edit", "the draft's page")
    app.step("draft-saved")
    for doc in DOCS:
        path = write_doc(f"{doc}.pdf", f"%PDF-1.4 {doc} of {code}\n")
        app.fill(f"documents.{doc}", path)
        app.click(ZH["apply.upload"].replace("{type}", doc))
        app.wait(lambda: ZH["apply.uploaded"].replace("{name}", f"{doc}.pdf") in app.text(), f"the upload of {doc}")
        app.step(f"uploaded-{doc}")
    progress = app.d.execute_script("return Array.from(document.querySelectorAll('progress')).map(p => p.value)")
    check(progress == [100, 100], f"upload progress bars: {progress}")
    app.click(ZH["edit.submit"])
    app.wait(lambda: app.page() == "applicant.application", "the submitted application")
    app.step("submitted")
    check(ZH["enum.ApplicantStatus.APPLICANT_RECEIVED"] in app.text(), "the application is not shown as received")
    # intake's sentence for the applicant, in Chinese (applicant.js SENTENCES).
    check(ZH["timeline.submitted"] in app.text(), "intake's sentence is not shown in Chinese")
    w.app_id = app.d.execute_script("return location.hash.split('/')[2]")

    # Staff accept it from the queue.
    staff.click(ZH["nav.queue"])
    staff.step("queue")
    staff.click("朗园 Station 数字文化集聚区")
    staff.wait(lambda: staff.page() == "applicant.application", "the application in the queue")
    staff.step("queue-application")
    staff.fill("reason", "材料齐全")
    staff.click(ZH["queue.accept"])
    staff.wait(lambda: ZH["enum.ApplicationStatus.ACCEPTED"] in staff.text(), "the acceptance")
    staff.step("accepted")

    # Staff assign the agency and the expert (the case comes from intake's event).
    staff.open("#/staff/cases")
    staff.until_reloaded(lambda: "朗园 Station 数字文化集聚区" in staff.text(), "the case opened by evaluation")
    staff.step("cases")
    staff.click("朗园 Station 数字文化集聚区")
    staff.wait(lambda: staff.page() == "staff.case", "the case page")
    staff.click(ZH["assign.propose"])
    staff.wait(lambda: ZH["assign.proposal"] in staff.text(), "the proposal")
    staff.step("assignment-proposed")
    staff.click(ZH["assign.make"])
    staff.wait(lambda: w.expert_id in staff.text() and w.agency_id in staff.text()
               and ZH["assign.make"] not in staff.text(), "the assignment (and no empty seat left)")
    staff.step("assigned")
    w.case_id = staff.d.execute_script("return location.hash.split('/')[3]")

    # The expert joins through an invitation page, sees the task, declares, scores.
    ex = people["expert"] = Browser("expert")
    ex.open(f"#/invitations/{w.staff.invite('EXPERT', w.expert_id)}")
    ex.step("invitation")
    ex.fill("login", f"expert.{w.s}")
    ex.fill("name", "王专家")
    ex.fill("email", f"expert.{w.s}@example.cn")
    ex.fill("password", PASSWORD)
    ex.click(ZH["invite.create"])
    ex.wait(lambda: ex.page() == "account.account", "the expert's account page")
    ex.step("expert-account")
    ex.click(ZH["nav.reviews"])
    ex.wait(lambda: "朗园 Station 数字文化集聚区" in ex.text(), "the expert's task")
    ex.step("expert-tasks")
    ex.click("朗园 Station 数字文化集聚区")
    ex.wait(lambda: ex.page() == "expert.review", "the review page")
    ex.step("review-declare")
    check(ZH["expert.documents_after_declaring"] in ex.text(), "the expert is not told it reads the documents after declaring")
    ex.click(ZH["review.no_conflict"])
    ex.wait(lambda: ex.d.find_elements("css selector", '[name="scores.innovation.score"]'), "the score sheet")
    # Declared: the expert reads the application's content and documents
    # (intake's readers rule), and each document's link downloads it.
    ex.wait(lambda: all(f"{d}.pdf" in ex.text() for d in DOCS), "the application's documents on the review page")
    check("朗园 Station" in ex.text() and "60000" in ex.text(), "the review page lacks the application's content")
    hrefs = ex.d.execute_script(
        "return Array.from(document.querySelectorAll('a[href*=\"/documents/\"]')).map(a => a.getAttribute('href'))")
    check(len(hrefs) == len(DOCS), f"the review page links {len(hrefs)} documents, not {len(DOCS)}")
    got = ex.d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(async r => done([r.status, await r.text()])).catch(e => done([0, String(e)]))", hrefs[0])
    check(got[0] == 200 and got[1].startswith("%PDF-1.4 "), f"the expert's download of a document: {got[0]} {got[1][:80]}")
    ex.step("score-sheet")
    # Another expert, assigned to nothing, is refused the same application
    # and document by intake.
    other = w.person("EXPERT", w.expert2_id, f"expert2.{w.s}")
    for what, path in (("the application", f"/api/v1/intake/applications/{w.app_id}"), ("a document", hrefs[0])):
        r = other.call("GET", path, ok=False)
        check(r.get("status") == 403 and r.get("ccip_status") == "PERMISSION_DENIED",
              f"an expert assigned to nothing reads {what}: {str(r)[:200]}")
    ex.fill("scores.innovation.score", "88")
    ex.fill("scores.innovation.comment", "改造利用充分，业态新颖。")
    ex.fill("scores.operation.score", "80")
    ex.fill("scores.operation.comment", "运营团队稳定。")
    ex.fill("comment", "建议认定。")
    ex.click(ZH["review.submit"])
    ex.wait(lambda: ex.page() == "expert.tasks", "the tasks after the review")
    ex.step("review-submitted")

    # The agency joins, sees the investigation, files the on-site report.
    ag = people["agency"] = Browser("agency")
    ag.open(f"#/invitations/{w.staff.invite('AGENCY', w.agency_id)}")
    ag.fill("login", f"agency.{w.s}")
    ag.fill("name", "赵考察")
    ag.fill("email", f"agency.{w.s}@example.cn")
    ag.fill("password", PASSWORD)
    ag.click(ZH["invite.create"])
    ag.wait(lambda: ag.page() == "account.account", "the agency's account page")
    ag.click(ZH["nav.investigations"])
    ag.wait(lambda: "朗园 Station 数字文化集聚区" in ag.text(), "the agency's task")
    ag.step("agency-tasks")
    ag.click("朗园 Station 数字文化集聚区")
    ag.wait(lambda: ag.page() == "agency.report", "the report page")
    ag.wait(lambda: all(f"{d}.pdf" in ag.text() for d in DOCS), "the application's documents on the report page")
    ag.set_value("visit_date_us", beijing_today())
    ag.fill("findings", "现场查看了园区的 12 栋建筑，入驻率 92%，配套完善。")
    ag.fill("verdict", "VERDICT_MEETS")
    ag.fill("documents", write_doc("site-photos.txt", "photos of the site\n"))
    ag.step("report-form")
    ag.click(ZH["report.submit"])
    ag.wait(lambda: ag.page() == "agency.tasks", "the tasks after the report")
    ag.step("report-filed")

    # Staff submit the case to the office.
    staff.open(f"#/staff/cases/{w.case_id}")
    staff.wait(lambda: ZH["case.submit"] in staff.text(), "the case ready to submit")
    staff.step("case-complete")
    staff.fill("note", "考察与评审均已完成")
    staff.click(ZH["case.submit"])
    staff.wait(lambda: ZH["enum.CaseStatus.CASE_WITH_OFFICE"] in staff.text(), "the submission to the office")
    staff.step("case-submitted")

    # The office reads the dossier and approves.
    off = people["office"] = Browser("office")
    off.sign_in(w.office.login, w.office.secret)
    off.wait(lambda: "朗园 Station 数字文化集聚区" in off.text(), "the case waiting for the office")
    off.click("朗园 Station 数字文化集聚区")
    off.wait(lambda: off.page() == "office.dossier", "the dossier")
    check(w.agency_id in off.text() and w.expert_id in off.text(), "the dossier lacks the report or the review")
    check("创新性 88" in off.text(), "the dossier does not name the score sheet's criteria")
    off.step("dossier")
    off.narrow("dossier")
    off.fill("outcome", "DECISION_APPROVED")
    off.fill("reasons", "符合认定条件，同意认定。")
    off.click(ZH["dossier.decide_submit"])
    off.wait(lambda: ZH["enum.CaseStatus.CASE_APPROVED"] in off.text(), "the decision")
    off.step("approved")

    # The applicant sees the approval in its timeline.
    app.open(f"#/applications/{w.app_id}")
    approved = ZH["enum.ApplicantStatus.APPLICANT_APPROVED"]
    app.until_reloaded(lambda: approved in app.d.find_element("css selector", "ol.timeline").text,
                       "the approval in the applicant's timeline")
    check(ZH["timeline.approved"] in app.text(), "the approval's sentence is not shown in Chinese")
    app.step("timeline-approved")
    app.narrow("timeline-approved")


# ---- 3. service field errors at their fields, in Chinese and English ---------------------------

def test_field_errors(w, people):
    b = people["applicant2"] = Browser("applicant2")
    login = f"li.{w.s}"
    w.org_b = uscc("110108")
    b.open("#/sign-up")
    b.fill("login", login)
    b.fill("name", "李娜")
    b.fill("email", f"{login}@example.cn")
    b.fill("password", PASSWORD)
    b.fill("organisation_uscc", w.org_b)
    b.click(ZH["signup.submit"])
    b.wait(lambda: b.page() == "applicant.org", "the organisation page")
    bad = w.org_b[:17] + ("0" if w.org_b[17] != "0" else "1")
    for lang, cat in (("zh-CN", ZH), ("en", EN)):
        b.switch_to(lang)
        b.fill("uscc", bad)
        as_typed = b.field_error("uscc")
        want = cat["check.uscc.check"].split("{")[0]
        check(want in as_typed, f"{lang}: the check as typed says \"{as_typed}\", not \"{want}...\"")
        b.step(f"uscc-as-typed-{lang}")
        for name, value in (("name", "某单位"), ("type", "ENTERPRISE"), ("district", "110108"),
                            ("legal_representative", "李娜"), ("contact_name", "李娜"), ("contact_phone", "010-8888 6666")):
            b.fill(name, value)
        b.click(cat["org.register_submit"])
        b.wait(lambda: cat["form.service_says"] in b.field_error("uscc"), f"{lang}: the service's refusal at the uscc field")
        err = b.field_error("uscc")
        check("field `uscc`" in err, f"{lang}: the uscc field shows \"{err}\", not the service's sentence")
        if lang == "zh-CN":  # said in Chinese (refusals.js), the service's sentence beside it
            said = ZH["check.uscc.check"].split("{")[0]
            check(said in err, f"the service's refusal is not said in Chinese at the uscc field: \"{err}\"")
        check(b.control("uscc").get_attribute("aria-invalid") == "true", f"{lang}: the uscc field is not marked invalid")
        b.step(f"uscc-refused-{lang}")
    b.switch_to("zh-CN")  # what was typed is kept
    check(b.control("legal_representative").get_attribute("value") == "李娜", "the form was emptied by the switch")
    # Register B properly (its user opens A's application in test 4).
    b.fill("uscc", w.org_b)
    b.click(ZH["org.register_submit"])
    b.wait(lambda: ZH["org.unverified"] in b.text(), "organisation B registered")
    w.staff.post(f"/api/v1/intake/organisations/{w.org_b}/verify", {"note": "fixture"})

    # A submission after the call closed: the refusal at the call's field.
    app = people["applicant"]
    app.open(f"#/apply/{w.call_b['id']}")
    app.fill("content.title", "截止后提交的申请")
    app.fill("content.summary", "用来检查截止后的提交。")
    app.fill("content.cluster.cluster_name", "测试集聚区")
    app.fill("content.cluster.location", "朝阳区")
    app.click(ZH["apply.save_draft"])
    app.wait(lambda: app.page() == "applicant.edit", "the second draft")
    draft = app.d.execute_script("return location.hash")
    staff = people["staff"]
    staff.open("#/staff/calls")
    staff.step("calls")
    reason = staff.d.find_elements("css selector", 'input[name="reason"]')
    titles = staff.d.execute_script(
        "return Array.from(document.querySelectorAll('input[name=reason]')).map(i => i.labels[0].textContent)")
    idx = [i for i, t in enumerate(titles) if w.call_b["title"] in t]
    check(idx, "the staff's calls page has no close form for the second call")
    reason[idx[0]].send_keys("测试提前截止")
    reason[idx[0]].find_element("xpath", "./ancestor::form").find_element("css selector", "button").click()
    staff.wait(lambda: w.call_b["title"] in staff.text() and len(staff.d.find_elements("css selector", 'input[name="reason"]')) == len(reason) - 1,
               "the call closed")
    staff.step("call-closed")
    for lang, cat in (("zh-CN", ZH), ("en", EN)):
        app.open(draft)
        app.switch_to(lang)
        for doc in DOCS:
            if lang == "zh-CN":
                app.fill(f"documents.{doc}", write_doc(f"{doc}-b.pdf", f"%PDF-1.4 {doc}\n"))
                app.click(cat["apply.upload"].replace("{type}", doc))
                app.wait(lambda: cat["apply.uploaded"].replace("{name}", f"{doc}-b.pdf") in app.text(), "an upload")
        app.click(cat["edit.submit"])
        app.wait(lambda: cat["form.service_says"] in app.field_error("call_id"), f"{lang}: the refusal at the call's field")
        err = app.field_error("call_id")
        check("closed" in err, f"{lang}: the call field shows \"{err}\"")
        if lang == "zh-CN":
            said = ZH["refusal.call_closed_by_staff"].split("}")[1].split("{")[0].strip()
            check(said in err and "测试提前截止" in err, f"the closed call's refusal is not said in Chinese: \"{err}\"")
        app.step(f"closed-call-refused-{lang}")
    app.switch_to("zh-CN")


# ---- 4. another organisation's application ------------------------------------------------------

def test_not_allowed(w, people):
    b = people["applicant2"]
    b.until_reloaded(lambda: ZH["org.verified"].split("{")[0] in b.text(), "organisation B verified")
    b.open(f"#/applications/{w.app_id}")
    b.wait(lambda: b.page() in ("denied", "notfound", "applicant.application"), "the page of A's application")
    b.step("other-org-application")
    check(b.page() == "denied", f"organisation B's user got page {b.page()}, not the \"not allowed\" page")
    check(b.d.find_element("css selector", "h1").text == ZH["denied.title"], "the not-allowed page's heading")
    src = b.d.page_source
    check("朗园 Station" not in src and "数字文化集聚区" not in src, "the not-allowed page shows A's data")
    # The same through the address of the edit page.
    b.open(f"#/applications/{w.app_id}/edit")
    b.wait(lambda: b.page() in ("denied", "notfound", "applicant.edit"), "the edit page of A's application")
    check(b.page() == "denied" and "朗园 Station" not in b.d.page_source, "the edit page of A's application is not refused")
    b.step("other-org-edit")


# ---- 5. public pages -------------------------------------------------------------------------

def test_public(w, people):
    p = people["public"] = Browser("public")
    p.open("#/")
    check(w.call["title"] in p.text(), "the open call is not on the home page")
    p.step("public-home")
    p.narrow("public-home")
    p.click(w.call["title"])
    p.wait(lambda: p.page() == "public.call", "the call's page")
    check("business_licence" in p.text(), "the call's requirements are not shown")
    p.step("public-call")
    for link, page in ((ZH["nav.bulletins"], "public.bulletins"), (ZH["nav.ip"], "public.listings"),
                       (ZH["nav.providers"], "public.providers")):
        p.click(link)
        p.wait(lambda: p.page() == page, page)
        p.step(page)
    p.click(ZH["nav.verify"])
    p.wait(lambda: p.page() == "public.verify", "the receipt check")
    with open(os.path.join(OUT, "ip-signing.pub"), encoding="utf-8") as f:
        key = f.read()
    with open(os.path.join(OUT, "receipt.txt"), encoding="utf-8") as f:
        receipt = f.read()
    p.fill("receipt_file", os.path.join(OUT, "receipt.txt"))
    p.fill("public_key", key)
    p.fill("content", os.path.join(OUT, "work.txt"))
    p.click(ZH["verify.submit"])
    p.wait(lambda: "notice" in (p.d.find_element("id", "verify-result").get_attribute("innerHTML") or ""), "the check's result")
    res = p.d.find_element("id", "verify-result").text
    check(ZH["verify.ok"].split("：")[0] in res, f"a genuine receipt was not accepted: {res}")
    p.step("receipt-good")
    # One changed digit of the serial: the signature no longer matches.
    p.reload()
    p.fill("receipt", receipt.replace("serial: 42", "serial: 43"))
    p.fill("public_key", key)
    p.click(ZH["verify.submit"])
    p.wait(lambda: p.d.find_element("id", "verify-result").text, "the tampered receipt's result")
    res = p.d.find_element("id", "verify-result").text
    check(ZH["verify.bad_signature"] in res, f"a tampered receipt was not refused: {res}")
    p.step("receipt-tampered")


# ---- 6. the designated cluster's quarterly report: operator, district, center, analyst ------------

def test_stats(w, people):
    # The office's approval designated the cluster; stats put it on the roster
    # (evaluation's event): its operator, the applicant, fills in the report.
    app = people["applicant"]
    app.switch_to("zh-CN")
    app.open("#/cluster-reports")
    app.until_reloaded(lambda: "朗园 Station" in app.text(), "the designated cluster on the applicant's roster")
    app.step("cluster-reports")
    app.click(ZH["creports.fill"].replace("{quarter}", beijing_quarter()))
    app.wait(lambda: app.page() == "reports.clusterReport", "the report form")
    # Checked as typed: a count is a whole number.
    app.fill("values.enterprises", "120.5")
    check(ZH["check.value_whole"] in app.field_error("values.enterprises"), "a count with decimals is not refused as typed")
    for name, value in (("values.enterprises", "120"), ("values.employees", "3500"),
                        ("values.operating_revenue", "12,345,678.90"), ("values.total_profit", "23456789"),
                        ("values.taxes_paid", "456789.10"), ("values.occupancy_rate", "92.5")):
        app.fill(name, value)
    app.step("report-form")
    # The service's check: profit above revenue, shown at the profit.
    app.click(ZH["sreport.submit"])
    want = ZH["finding.profit_within_revenue"].replace("{indicator}", ZH["indicator.total_profit"])
    app.wait(lambda: want in app.field_error("values.total_profit"), "the service's finding at the profit")
    app.step("report-finding")
    app.fill("values.total_profit", "-1234.5")  # a loss: allowed for profit
    app.click(ZH["sreport.submit"])
    app.wait(lambda: ZH["enum.stats.ReportStatus.SUBMITTED"] in app.text() and not app.d.find_elements("css selector", "form"),
             "the submitted report")
    check("-¥1,234.50" in app.text() and "92.50%" in app.text(), "the submitted values are not shown as entered")
    app.step("report-submitted")

    # The district's statistics office reviews it.
    dist = people["district"] = Browser("district")
    dist.sign_in(w.district.login)
    check(dist.page() == "reports.reports", f"the district starts at {dist.page()}, not its reports")
    check(ZH["sreports.todo"].split("{")[0] in dist.text(), "the district is not told a report waits")
    dist.click("朗园 Station")
    dist.wait(lambda: dist.page() == "reports.report", "the report to review")
    check("¥12,345,678.90" in dist.text(), "the district does not see the values")
    dist.step("district-review")
    dist.click(ZH["sreports.approve"])
    dist.wait(lambda: ZH["enum.stats.ReportStatus.DISTRICT_APPROVED"] in dist.text() and not dist.d.find_elements("css selector", "form"),
              "the district's approval")
    dist.step("district-approved")

    # The center accepts it.
    staff = people["staff"]
    staff.open("#/")
    staff.click(ZH["nav.reports"])
    staff.wait(lambda: staff.page() == "reports.reports", "staff's reports")
    staff.click("朗园 Station")
    staff.wait(lambda: staff.page() == "reports.report", "the report to accept")
    staff.click(ZH["sreports.accept"])
    staff.wait(lambda: ZH["enum.stats.ReportStatus.ACCEPTED"] in staff.text() and not staff.d.find_elements("css selector", "form"),
               "the center's acceptance")
    staff.step("report-accepted")

    # The analyst sees it complete, reads the analysis and publishes the bulletin.
    an = people["analyst"] = Browser("analyst")
    an.sign_in(w.analyst.login, w.analyst.secret)
    check(an.page() == "analyst.completeness", f"the analyst starts at {an.page()}")
    check("朗园 Station" in an.text() and ZH["enum.stats.Timeliness.ON_TIME"] in an.text(),
          "the completeness page does not show the cluster's report on time")
    an.step("completeness")
    an.click(ZH["nav.analysis"])
    an.wait(lambda: an.page() == "analyst.analysis", "the analysis")
    check(an.d.find_elements("css selector", "svg.chart") and ZH["indicator.operating_revenue"] in an.text(),
          "the analysis has no chart of the indicators")
    an.step("analysis")
    an.click(ZH["nav.releases"])
    an.wait(lambda: an.page() == "analyst.releases", "the releases")
    w.bulletin = f"文化创意产业集聚区监测公报（{w.s}）"
    an.fill("title", w.bulletin)
    an.click(ZH["releases.publish"])
    an.wait(lambda: w.bulletin in an.text(), "the published release in the list")
    an.step("released")

    # Anyone reads the bulletin and its charts.
    p = people.setdefault("public", Browser("public"))
    p.open("#/bulletins")
    p.click(beijing_quarter())
    p.wait(lambda: p.page() == "public.bulletin", "the bulletin")
    check(w.bulletin in p.text() and p.d.find_elements("css selector", "svg.chart"), "the bulletin or its charts are missing")
    p.step("bulletin")
    p.narrow("bulletin")


# ---- 7. the language switch -----------------------------------------------------------------------

CJK = "[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]"


def test_language(w, people):
    p = people.setdefault("public", Browser("public"))
    p.open("#/")
    check(p.lang() == "zh-CN" and p.d.title.endswith(ZH["app.name"]), "the console does not start in Chinese")
    p.switch_to("en")
    check(p.d.find_element("css selector", "h1").text == EN["home.title"], "the heading is not in English")
    check(p.d.title == f"{EN['home.title']} · {EN['app.name']}", f"the title is not in English: {p.d.title}")
    # Nothing of the console's own text is left in Chinese: the header, the
    # footer, the headings, labels, buttons and table heads (the calls'
    # titles are data, and stay as they were written).
    left = p.d.execute_script(
        "const re = new RegExp(arguments[0]);"
        "return Array.from(document.querySelectorAll('header a, header button, footer, h1, h2, th, caption, label, button, .lead'))"
        ".map(e => e.textContent.trim()).filter(x => re.test(x) && x !== arguments[1]);", CJK, EN["lang.switch"])
    check(not left, f"Chinese text left on the English page: {left}")
    p.step("home-en")
    p.reload()  # the choice is kept
    check(p.lang() == "en" and p.d.find_element("css selector", "h1").text == EN["home.title"], "the choice of English is not kept")
    p.open("#/sign-in")
    check(p.d.find_element("css selector", "h1").text == EN["signin.title"], "the sign-in page is not in English")
    p.fill("login", "someone")
    p.fill("password", "not kept")
    p.step("sign-in-en")
    p.switch_to("zh-CN")
    check(p.d.find_element("css selector", "h1").text == ZH["signin.title"], "the sign-in page is not in Chinese again")
    # What was typed survives the switch; a password does not.
    check(p.control("login").get_attribute("value") == "someone", "the login typed was lost by the switch")
    check(p.control("password").get_attribute("value") == "", "the password was kept across the switch")
    p.step("sign-in-zh")


# ---- 8. a special-fund award: tranches, second approval, use-of-funds report -----------------------

FUND = "SPECIAL_FUND_PROJECT"


def until(fn, what, timeout=20):
    """fn()'s first truthy answer, asked every 0.2 s (an effect of an event)."""
    end = time.time() + timeout
    while True:
        r = fn()
        if r:
            return r
        if time.time() > end:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(0.2)


def fund_award(w):
    """A project of the applicant approved with an amount, through the API
    (test 2 walks the same steps through the pages); funding proposes the
    award from the office's decision. Returns the award's id."""
    now = int(time.time()) * 1000000
    w.programme = f"CCI-{w.s}"
    w.staff.post("/api/v1/funding/programmes", {
        "code": w.programme, "name": "文化创意产业发展专项资金（浏览器测试）",
        "tranchePlan": [{"percent": 50, "condition": "AGREEMENT_SIGNED", "label": "签约后"},
                        {"percent": 50, "condition": "FINAL_REPORT_ACCEPTED", "label": "结项报告接收后"}]})
    w.staff.post(f"/api/v1/funding/budgets/{w.programme}/2027", {"budgetFen": "1000000000", "reason": "年度预算"})
    w.staff.post("/api/v1/evaluation/sheets", {
        "kind": FUND, "panelSize": 1, "passThresholdCenti": 6000, "fields": ["design"],
        "criteria": [{"code": "value", "title": "项目价值", "weight": 100, "maxScore": 100}]})
    call = w.staff.post("/api/v1/intake/calls", {
        "kind": FUND, "year": 2027, "title": f"2027 专项资金项目（浏览器测试 {w.s}）", "opensAtUs": str(now - HOUR_US),
        "closesAtUs": str(now + 30 * DAY_US), "requiredDocuments": [], "fundProgrammeCode": w.programme,
        "maxRequestFen": "500000000"})["call"]
    app = Api()
    app.sign_in(f"wang.{w.s}")
    w.fund_title = "朗园数字内容制作平台"
    a = app.post("/api/v1/intake/applications/file", {"callId": call["id"], "content": {
        "title": w.fund_title, "summary": "建设面向园区企业的数字内容制作公共平台。", "requestedFen": "300000000",
        "project": {"budgetLines": [{"item": "设备购置", "amountFen": "200000000"},
                                    {"item": "平台运营", "amountFen": "100000000"}]}}})["application"]
    w.staff.post(f"/api/v1/intake/applications/{a['id']}/accept", {"reason": "材料齐全"})
    case = until(lambda: [c for c in w.staff.get("/api/v1/evaluation/cases").get("cases", [])
                          if c.get("applicationId") == a["id"]], "the project's case")[0]
    path = f"/api/v1/evaluation/cases/{case['id']}"
    w.staff.post(f"{path}/assignment", {"picks": [{"kind": "AGENCY", "id": w.agency_id}, {"kind": "EXPERT", "id": w.expert_id}]})
    ex = Api()
    ex.sign_in(f"expert.{w.s}")
    ex.post(f"{path}/review/declare", {"conflict": False})
    sheet = ex.get(f"/api/v1/evaluation/sheets/{FUND}")["sheet"]
    ex.post(f"{path}/review", {"sheetVersion": sheet["version"], "comment": "建议资助。",
                               "scores": [{"criterion": "value", "score": 86, "comment": "平台带动作用明显。"}]})
    ag = Api()
    ag.sign_in(f"agency.{w.s}")
    ag.post(f"{path}/investigation/report", {
        "visitDateUs": str(now - HOUR_US), "findings": "现场核实场地与设备清单。", "verdict": "VERDICT_MEETS",
        "documents": [{"name": "site.txt", "sha256": "0" * 64, "mediaType": "text/plain"}]})
    w.staff.post(f"{path}/submit", {"note": "评审与考察完成"})
    w.office.post(f"{path}/decide", {"outcome": "DECISION_APPROVED", "reasons": "同意资助。", "recommendedFen": "300000000"})
    award = until(lambda: [x for x in w.staff.get("/api/v1/funding/awards").get("awards", [])
                           if x.get("applicationId") == a["id"]], "the award funding proposes")[0]
    return award["id"]


def test_funding(w, people):
    award_id = fund_award(w)
    page = f"#/awards/{award_id}"

    # Staff confirm the proposed award, record the signed agreement and
    # request the first tranche (its condition, the signing, now holds).
    staff = people["staff"]
    staff.open(page)
    check(ZH["enum.AwardStatus.AWARD_PROPOSED"] in staff.text(), "the award is not shown as proposed")
    staff.step("award-proposed")
    staff.click(ZH["award.confirm"])
    staff.wait(lambda: ZH["enum.AwardStatus.AWARD_COMMITTED"] in staff.text() and staff.d.find_elements(
        "xpath", f"//button[text()='{ZH['award.sign']}']"), "the confirmation")
    staff.fill("reason", "协议已于今日签订")
    staff.click(ZH["award.sign"])
    first = ZH["award.request_payment"].replace("{n}", "1")
    staff.wait(lambda: first in staff.text(), "the first tranche's request button after the signing")
    staff.click(first)
    staff.wait(lambda: ZH["enum.TrancheStatus.TRANCHE_REQUESTED"] in staff.text(), "the payment request")
    check(ZH["payment.waits_two"] in staff.text(), "a payment above the four-eyes limit is not shown waiting for two approvers")
    check(ZH["award.request_payment"].replace("{n}", "2") not in staff.text(), "the second tranche may be requested before its condition")
    staff.step("award-payment-requested")

    # The first approval (admin, through the API); finance gives the second on its page.
    pay = w.admin.get(f"/api/v1/funding/awards/{award_id}")["award"]["payments"][0]
    w.admin.post(f"/api/v1/funding/payments/{pay['id']}/approve", {"paymentRef": ""})
    fin_api = w.person("FINANCE", "", f"finance.{w.s}", totp_=True)
    fin = people["finance"] = Browser("finance")
    fin.sign_in(fin_api.login, fin_api.secret)
    check(fin.page() == "funding.payments", f"finance starts at {fin.page()}, not the payments")
    check(w.fund_title in fin.text() and ZH["payment.waits_second"] in fin.text(),
          "the payments page does not show the payment waiting for its second approval")
    fin.step("payments-pending")
    fin.fill("payment_ref", "TREASURY-2027-0001")
    fin.click(ZH["payment.approve_second"])
    fin.wait(lambda: ZH["payment.approve_second"] not in fin.text() and ZH["payment.waits_second"] not in fin.text(),
             "the second approval")
    fin.step("payment-approved")

    # The applicant sees the tranche paid and files the final report.
    app = people["applicant"]
    app.open("#/awards")
    app.click(w.fund_title)
    app.wait(lambda: app.page() == "funding.award", "the applicant's award page")
    check(ZH["enum.TrancheStatus.TRANCHE_PAID"] in app.text() and "¥1,500,000.00" in app.text(),
          "the applicant does not see the first tranche paid")
    app.fill("kind", "FINAL")
    app.fill("period", "2027 年度")
    app.fill("lines[0].item", "设备购置")
    app.fill("lines[0].spent_fen", "1,200,000")
    app.fill("lines[1].item", "平台运营")
    app.fill("lines[1].spent_fen", "280000.50")
    app.fill("progress", "平台已建成并投入使用，服务园区企业 36 家。")
    app.fill("documents", write_doc("use-of-funds.txt", "invoices\n"))
    app.step("use-report-form")
    app.click(ZH["usereport.submit_use"])
    app.wait(lambda: ZH["enum.funding.ReportStatus.REPORT_SUBMITTED"] in app.text()
             and not app.d.find_elements("css selector", '[name="period"]'), "the submitted report")
    check("¥1,480,000.50" in app.text(), "the report's total is not the sum of its lines")
    app.step("use-report-submitted")

    # Staff accept it: the last tranche's condition holds.
    staff.open(page)
    staff.click(ZH["usereport.accept"])
    staff.wait(lambda: ZH["enum.funding.ReportStatus.REPORT_ACCEPTED"] in staff.text(), "the report's acceptance")
    check(ZH["award.request_payment"].replace("{n}", "2") in staff.text(), "the last tranche may not be requested after the final report")
    staff.step("use-report-accepted")

    # Staff schedule the completion inspection and record its finding.
    staff.fill("kind", "COMPLETION")
    staff.set_value("scheduled_for_us", beijing_today())
    staff.fill("inspector", "北京某会计师事务所")
    staff.click(ZH["inspection.schedule"])
    staff.wait(lambda: staff.d.find_elements("css selector", '[name="finding"]'), "the inspection scheduled")
    staff.fill("finding", "COMPLIANT")
    staff.fill("notes", "账目与报告一致，设备已到位。")
    staff.click(ZH["inspection.record_submit"])
    staff.wait(lambda: ZH["enum.Finding.COMPLIANT"] in staff.text() and not staff.d.find_elements("css selector", '[name="finding"]'),
               "the inspection's finding")
    staff.step("inspection-recorded")

    # The last tranche requested, then its payment cancelled: the
    # cancellation asks first, and funding refuses it without a reason (at
    # the field, in Chinese).
    staff.click(ZH["award.request_payment"].replace("{n}", "2"))
    staff.wait(lambda: staff.d.find_elements("css selector", '[name="cancel.reason"]'), "the pending payment's cancel form")
    staff.click(ZH["payment.cancel"])
    staff.wait(lambda: ZH["payment.cancel_yes"] in staff.text(), "the question before the cancellation")
    staff.step("payment-cancel-asked")
    staff.click(ZH["payment.cancel_yes"])
    staff.wait(lambda: "`reason`" in staff.field_error("cancel.reason"), "funding's refusal of a cancellation without a reason")
    check(ZH["check.required"] in staff.field_error("cancel.reason"), "the refusal of an empty reason is not said in Chinese")
    staff.step("payment-cancel-refused")
    staff.fill("cancel.reason", "受资助单位申请暂缓拨付")
    staff.click(ZH["payment.cancel"])
    staff.click(ZH["payment.cancel_yes"])
    staff.wait(lambda: ZH["enum.PaymentStatus.PAYMENT_CANCELLED"] in staff.text()
               and not staff.d.find_elements("css selector", '[name="cancel.reason"]'), "the cancelled payment")
    check("受资助单位申请暂缓拨付" in staff.text(), "the cancellation's reason is not shown")
    staff.step("payment-cancelled")

    # Suspended (a reason required here too), then a resumption that
    # someone else made first: funding's refusal, in Chinese, at the form.
    staff.click(ZH["award.suspend"])
    staff.click(ZH["award.suspend_yes"])
    staff.wait(lambda: "`reason`" in staff.field_error("award.reason"), "funding's refusal of a suspension without a reason")
    check(ZH["check.required"] in staff.field_error("award.reason"), "the refusal of an empty reason is not said in Chinese")
    staff.fill("award.reason", "审计发现票据问题，暂停拨付待核查")
    staff.click(ZH["award.suspend"])
    check(ZH["enum.AwardStatus.AWARD_COMMITTED"] in staff.text(), "asking suspended the award already")
    staff.click(ZH["award.suspend_yes"])
    staff.wait(lambda: ZH["enum.AwardStatus.AWARD_SUSPENDED"] in staff.text() and ZH["award.resume"] in staff.text(), "the suspension")
    check("审计发现票据问题" in staff.text(), "the suspension's reason is not shown")
    staff.step("award-suspended")
    w.admin.post(f"/api/v1/funding/awards/{award_id}/resume", {"reason": "核查完毕"})
    staff.fill("award.reason", "核查完毕，恢复拨付")
    staff.click(ZH["award.resume"])
    staff.click(ZH["award.resume_yes"])
    stale = ZH["refusal.award_status"].split("{")[0]
    staff.wait(lambda: stale in staff.text(), "funding's refusal to resume an award resumed meanwhile, in Chinese")
    staff.step("award-resume-refused")

    # An inspection finds misuse (through the API: the form is above):
    # funding suspends the award and orders the clawback; finance records
    # what was recovered, more than owed refused at the amount.
    ins = w.staff.post(f"/api/v1/funding/awards/{award_id}/inspections", {
        "kind": "AD_HOC", "scheduledForUs": str(int(time.time()) * 1000000), "inspector": "市审计局"})["inspection"]
    w.staff.post(f"/api/v1/funding/inspections/{ins['id']}", {
        "finding": "MISUSE", "notes": "部分资金用于无关支出。", "misusedFen": "10000000"})
    fin.open(page)
    check(ZH["enum.ClawbackStatus.CLAWBACK_OPEN"] in fin.text(), "finance does not see the open clawback")
    fin.fill("amount_fen", "100000.01")
    fin.fill("reference", "BANK-2027-0042")
    fin.click(ZH["clawback.recover"])
    fin.click(ZH["clawback.recover_yes"])
    over = ZH["refusal.clawback_over"].split("{")[1].split("}")[1]
    fin.wait(lambda: over in fin.field_error("amount_fen") and "still owed" in fin.field_error("amount_fen"),
             "funding's refusal of more than owed, at the amount, in Chinese")
    fin.step("clawback-over-refused")
    fin.fill("amount_fen", "100000")
    fin.click(ZH["clawback.recover"])
    fin.click(ZH["clawback.recover_yes"])
    fin.wait(lambda: ZH["enum.ClawbackStatus.CLAWBACK_RECOVERED"] in fin.text(), "the clawback recovered")
    check("BANK-2027-0042" in fin.text(), "the recovery's reference is not shown")
    fin.step("clawback-recovered")

    # Staff terminate the award (asked first, with its reason).
    staff.open(page)
    check(ZH["enum.AwardStatus.AWARD_SUSPENDED"] in staff.text(), "the misuse did not suspend the award")
    staff.fill("award.reason", "资金挪用，终止资助")
    staff.click(ZH["award.terminate"])
    staff.wait(lambda: ZH["award.terminate_yes"] in staff.text(), "the question before the termination")
    staff.step("award-terminate-asked")
    staff.click(ZH["award.terminate_yes"])
    staff.wait(lambda: ZH["enum.AwardStatus.AWARD_TERMINATED"] in staff.text()
               and not staff.d.find_elements("css selector", '[name="award.reason"]'), "the termination")
    staff.step("award-terminated")


# ---- 9. intellectual property: a work, its listing, an offer, the contract --------------------------

def test_ip(w, people):
    app = people["applicant"]
    app.open("#/works")
    title = f"朗园 Station 导视系统设计 {w.s}"
    app.fill("kind", "COPYRIGHT_DESIGN")
    app.fill("title", title)
    app.fill("creators", "王芳、李明")
    app.set_value("created_on", beijing_today())
    app.fill("content_sha256", write_doc("wayfinding.txt", f"朗园 Station 导视系统设计说明 {w.s}\n"))
    app.click(ZH["works.register"])
    app.wait(lambda: app.d.find_elements("id", "receipt-download"), "the work's receipt")
    app.step("work-registered")
    app.click(title)
    app.wait(lambda: app.page() == "ip.work", "the work's page")
    app.fill("deal", "TRANSFER")
    app.fill("price_fen", "80000")
    app.click(ZH["listings.create"])
    app.wait(lambda: app.page() == "ip.listing", "the listing")
    listing = app.d.execute_script("return location.hash")
    check(ZH["listing.no_offers"] in app.text(), "the seller's new listing does not say it has no offers")
    app.step("listing-created")

    # Another organisation's user makes an offer.
    b = people["applicant2"]
    b.open(listing)
    b.fill("price_fen", "75000")
    b.fill("note", "希望用于本单位园区。")
    b.click(ZH["listing.offer"])
    b.wait(lambda: ZH["listing.withdraw_offer"] in b.text(), "the offer made")
    b.step("offer-made")

    # The seller accepts it: a contract, whose settlement it records.
    app.open(listing)
    app.click(ZH["listing.accept"])
    app.wait(lambda: app.page() == "ip.contract", "the contract")
    check("¥75,000.00" in app.text(), "the contract's price is not the offer's")
    app.fill("payment_ref", "BANK-2027-0042")
    app.fill("paid_fen", "75000")
    app.click(ZH["contract.settle"])
    app.wait(lambda: "SETTLED" in app.text() and not app.d.find_elements("css selector", '[name="paid_fen"]'), "the settlement")
    app.step("contract-settled")

    # The contract in the seller's list of contracts, and in staff's.
    app.open("#/ip/contracts")
    check("¥75,000.00" in app.text() and ZH["contracts.settled"] in app.text(), "the seller's contracts lack the settled contract")
    app.step("contracts-own")
    people["staff"].open("#/ip/contracts?status=SETTLED")
    check("¥75,000.00" in people["staff"].text(), "staff's settled contracts lack the contract")
    people["staff"].step("contracts-staff")

    # Anyone reads the listing (not the work, nor the offers).
    p = people.setdefault("public", Browser("public"))
    p.open(listing)
    check(p.page() == "ip.listing" and "¥80,000.00" in p.text() and "¥75,000.00" not in p.text(),
          "the public listing page does not show the listing, or shows its offers")
    p.step("public-listing")

    # The former seller disputes the work (now organisation B's), B answers
    # (through the API); staff find the dispute in their list and dismiss it.
    work_id = app.d.execute_script(
        "const a = document.querySelector('a[href^=\"#/works/\"]'); return a ? a.getAttribute('href').split('/')[2] : ''")
    if not work_id:
        work_id = [x for x in w.staff.get("/api/v1/ip/works").get("works", []) if x.get("title") == title][0]["id"]
    seller = Api()
    seller.sign_in(f"wang.{w.s}")
    d = seller.post(f"/api/v1/ip/works/{work_id}/disputes", {
        "kind": "IMPROPER_REGISTRATION", "statement": "转让前的设计稿归我单位所有。",
        "evidence": [{"description": "设计稿（2027 年）", "sha256": "a" * 64}]})["dispute"]
    buyer = Api()
    buyer.sign_in(f"li.{w.s}")
    buyer.post(f"/api/v1/ip/disputes/{d['id']}/answer", {"answer": "已按合同受让全部权利。"})
    staff = people["staff"]
    staff.open("#/staff/disputes")
    staff.fill("status", "ANSWERED")
    staff.click(ZH["disputes.filter"])
    staff.wait(lambda: "status=ANSWERED" in staff.d.current_url and ZH["disputes.status_answered"] in staff.text(),
               "the answered disputes")
    staff.step("disputes-answered")
    staff.open(f"#/staff/disputes/{d['id']}")
    check("转让前的设计稿归我单位所有。" in staff.text() and "已按合同受让全部权利。" in staff.text(),
          "the dispute's page lacks the complaint or the answer")
    staff.fill("reasons", "合同约定转让全部著作财产权，投诉不成立。")
    staff.click(ZH["disputes.dismiss"])
    staff.wait(lambda: ZH["disputes.status_dismissed"] in staff.text() and not staff.d.find_elements("css selector", '[name="reasons"]'),
               "the dismissal")
    staff.step("dispute-dismissed")
    staff.open("#/staff/disputes?status=DISMISSED")
    check(d["id"] in staff.d.page_source, "the dismissed dispute is not in the list of dismissed ones")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".png"):
            os.remove(os.path.join(OUT, f))
    people = {}
    passed = failed = 0
    w = None
    tests = [("ports", lambda: test_ports(people.setdefault("public", Browser("public")))),
             ("path", lambda: test_path(w, people)),
             ("field_errors", lambda: test_field_errors(w, people)),
             ("not_allowed", lambda: test_not_allowed(w, people)),
             ("public", lambda: test_public(w, people)),
             ("stats", lambda: test_stats(w, people)),
             ("funding", lambda: test_funding(w, people)),
             ("ip", lambda: test_ip(w, people)),
             ("language", lambda: test_language(w, people))]
    # A subset by name: console_harness's extra arguments, or CCIP_CONSOLE_TESTS
    # ("ports public language"; the others build on "path").
    only = set(sys.argv[1:]) or set(os.environ.get("CCIP_CONSOLE_TESTS", "").split())
    try:
        w = World()
        for name, fn in tests:
            if only and name not in only:
                continue
            t0 = time.time()
            try:
                fn()
                passed += 1
                print(f"ok   {name} ({time.time() - t0:.1f} s)", flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported, then the next test runs
                failed += 1
                print(f"FAIL {name}: {e}", flush=True)
                if not isinstance(e, Failure):
                    traceback.print_exc()
                if name == "path":
                    break  # the later tests build on the path's application
    finally:
        pages = sorted(set().union(*[b.pages for b in people.values()])) if people else []
        print(f"pages checked: {len(pages)}: {' '.join(pages)}")
        print(f"screenshots: {Browser.shots} in {OUT}")
        for b in people.values():
            b.quit()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(main())
