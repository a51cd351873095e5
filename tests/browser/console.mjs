// The console in real Chromium: a staff member's day, each effect checked through the API,
// axe-core on every page, no sideways scrolling at 360 px, page weights, screenshots.
//
// Run by tests/api/console_browser.rs, which starts the server on a fresh database with
// the demo data and passes:
//   OCOD_BASE_URL    the server, e.g. http://127.0.0.1:40123
//   OCOD_OUT_DIR     where screenshots and report.json go (under target/)
//   OCOD_CHROMIUM    the browser (default /usr/bin/chromium)
// Exits non-zero on the first failed check; never skips.

import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const base = process.env.OCOD_BASE_URL;
const out = process.env.OCOD_OUT_DIR;
const executablePath = process.env.OCOD_CHROMIUM || "/usr/bin/chromium";
if (!base || !out) {
  console.error("OCOD_BASE_URL and OCOD_OUT_DIR must be set");
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const STAFF = { login: "staff@demo.ocod.th", password: "demo-staff-pass" };
const RESIDENT = { login: "0812345678", password: "demo-resident-pass" };
const ADMIN = { login: "admin@demo.ocod.th", password: "demo-admin-pass" };
const MAX_PAGE_BYTES = 100 * 1024;
const report = { pages: [] };

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

// --- the API, to check what the console did --------------------------------------------
async function api(method, path, token, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function apiToken(who) {
  const res = await api("POST", "/auth/login", null, who);
  check(res.status === 200, `API login of ${who.login}: ${res.status}`);
  return res.body.access_token;
}

async function roster(token, sessionId) {
  const res = await api("GET", `/sessions/${sessionId}/enrollments?limit=100`, token);
  check(res.status === 200, `roster through the API: ${res.status}`);
  return res.body.items;
}

// --- what every page must pass ---------------------------------------------------------
let cdp;

/** What the current document cost: its response and every response after it, with the
 * browser cache off (a phone loading the page cold). Encoded (gzip) bodies plus headers. */
const loaded = [];
function trackWeight(page) {
  page.on("request", (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) loaded.length = 0;
  });
  page.on("response", (r) => loaded.push(r));
}

async function weigh() {
  let total = 0;
  for (const r of loaded) {
    const sizes = await r.request().sizes();
    total += sizes.responseBodySize + sizes.responseHeadersSize;
  }
  return { bytes: total, requests: loaded.length };
}

/** Waits until the page has been laid out and painted at its new size. */
async function settle(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

async function inspect(page, name) {
  await page.waitForLoadState("load");
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  const bad = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const counts = {};
  for (const v of axe.violations) counts[v.impact] = (counts[v.impact] || 0) + 1;
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  const weight = await weigh();
  const desktop = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  await settle(page);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.screenshot({ path: join(out, `${name}-360.png`), fullPage: true });
  await page.setViewportSize(desktop);
  await settle(page);
  const entry = {
    name,
    path: new URL(page.url()).pathname,
    lang: await page.getAttribute("html", "lang"),
    axe_violations: counts,
    axe_passes: axe.passes.length,
    bytes: weight.bytes,
    requests: weight.requests,
    scroll_width_at_360: scrollWidth,
  };
  report.pages.push(entry);
  console.log(JSON.stringify(entry));
  check(bad.length === 0, `${name}: axe found ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(", ")}`).join("; ")}`);
  check(scrollWidth <= 360, `${name}: scrolls sideways at 360 px (${scrollWidth} px wide)`);
  check(weight.bytes < MAX_PAGE_BYTES, `${name}: ${weight.bytes} bytes, over ${MAX_PAGE_BYTES}`);
}

async function notice(page, text) {
  await page.getByRole("status").filter({ hasText: text }).waitFor();
}

// --- the journey -----------------------------------------------------------------------
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] }).catch((e) => {
  console.error(`cannot start Chromium at ${executablePath}: ${e.message}`);
  console.error("install it: apt-get install chromium fonts-thai-tlwg");
  process.exit(1);
});

try {
  const context = await browser.newContext({
    locale: "th-TH",
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  trackWeight(page);
  const staffToken = await apiToken(STAFF);

  // Signing in: Thai by default; the console sends an unsigned visitor to sign in.
  await page.goto(`${base}/console`);
  check(new URL(page.url()).pathname === "/console/login", `not sent to sign in: ${page.url()}`);
  check((await page.getAttribute("html", "lang")) === "th", "the sign-in page is not Thai");
  await inspect(page, "login");

  // A resident is told the console is not for them.
  await page.getByLabel("เบอร์โทรศัพท์หรืออีเมล").fill(RESIDENT.login);
  await page.getByLabel("รหัสผ่าน").fill(RESIDENT.password);
  await page.getByRole("button", { name: "เข้าสู่ระบบ" }).click();
  await page.getByRole("alert").filter({ hasText: "สำหรับเจ้าหน้าที่ศูนย์และผู้ดูแลระบบเท่านั้น" }).waitFor();
  await inspect(page, "login-resident-refused");

  // A wrong password is shown beside the field.
  await page.getByLabel("เบอร์โทรศัพท์หรืออีเมล").fill(STAFF.login);
  await page.getByLabel("รหัสผ่าน").fill("not-the-password");
  await page.getByRole("button", { name: "เข้าสู่ระบบ" }).click();
  await page.locator("#password-error").waitFor();
  check((await page.getAttribute("#password", "aria-invalid")) === "true", "the password field is not marked invalid");
  await inspect(page, "login-wrong-password");

  await page.getByLabel("รหัสผ่าน").fill(STAFF.password);
  await page.getByRole("button", { name: "เข้าสู่ระบบ" }).click();
  await page.waitForURL(/\/console\/today$/);

  // Today: the full session later today, "3/3" and one person waiting.
  const today = page.locator("li.session").first();
  await today.waitFor();
  check((await today.textContent()).includes("3/3"), "Today does not show 3/3 seats");
  check((await today.textContent()).includes("รอคิว 1 คน"), "Today does not show the one waiting");
  await inspect(page, "today");

  // A session, opened by its course title.
  const title = (await today.locator("h3 a").textContent()).trim();
  await today.getByRole("link", { name: title }).click();
  await page.waitForURL(/\/console\/sessions\/[^/]+$/);
  const sessionId = new URL(page.url()).pathname.split("/").pop();
  check((await page.locator("h1").textContent()).trim() === title, "the session page is not the one opened");
  let people = await roster(staffToken, sessionId);
  check(people.length === 4, `the roster has ${people.length} people, not 4`);
  await inspect(page, "session");

  // One tap: attended.
  const first = people.find((p) => p.status === "confirmed");
  await page.getByRole("button", { name: `มาเรียน: ${first.user.display_name}` }).click();
  await notice(page, "บันทึกการเข้าเรียนแล้ว");
  people = await roster(staffToken, sessionId);
  check(people.find((p) => p.id === first.id).status === "attended", "attendance not recorded in the API");
  // And a no-show for the second.
  const second = people.find((p) => p.status === "confirmed");
  await page.getByRole("button", { name: `ไม่มา: ${second.user.display_name}` }).click();
  await notice(page, "บันทึกการเข้าเรียนแล้ว");
  people = await roster(staffToken, sessionId);
  check(people.find((p) => p.id === second.id).status === "no_show", "no-show not recorded in the API");

  // A walk-in: a phone that is not one is refused beside the field, nothing enrolled.
  await page.getByLabel("เบอร์โทรศัพท์", { exact: true }).fill("12345");
  await page.getByRole("button", { name: "ตรวจสอบเบอร์" }).click();
  await page.locator("#walk-in-phone-error").waitFor();
  check((await roster(staffToken, sessionId)).length === 4, "a refused walk-in changed the roster");
  await inspect(page, "session-walk-in-refused");

  // A new phone: registered at the desk with a name; the session is full, so they wait.
  await page.getByLabel("เบอร์โทรศัพท์", { exact: true }).fill("089-111-2222");
  await page.getByRole("button", { name: "ตรวจสอบเบอร์" }).click();
  await page.getByRole("status").filter({ hasText: "เบอร์นี้ยังไม่มีบัญชี" }).waitFor();
  await page.getByLabel("ชื่อ", { exact: true }).fill("ลุงมา หน้าศูนย์");
  await inspect(page, "session-walk-in-new");
  await page.getByRole("button", { name: "สร้างบัญชีและลงทะเบียน" }).click();
  await notice(page, "ลงทะเบียนแล้ว อยู่ในคิวรอ");
  people = await roster(staffToken, sessionId);
  const walkIn = people.find((p) => p.user.phone === "+66891112222");
  check(walkIn && walkIn.status === "waitlisted" && walkIn.user.display_name === "ลุงมา หน้าศูนย์", "the walk-in is not on the waitlist");

  // A known phone: the account is found by its phone, and enrolled as it is.
  await page.getByLabel("เบอร์โทรศัพท์", { exact: true }).fill("081 234 5678");
  await page.getByRole("button", { name: "ตรวจสอบเบอร์" }).click();
  await page.getByRole("status").filter({ hasText: "สมศรี ใจดี (Demo Resident)" }).waitFor();
  await page.getByRole("button", { name: "ลงทะเบียน", exact: true }).click();
  await notice(page, "ลงทะเบียนแล้ว อยู่ในคิวรอ");
  people = await roster(staffToken, sessionId);
  check(people.some((p) => p.user.phone === "+66812345678" && p.status === "waitlisted"), "the known resident is not on the waitlist");

  // The search finds them by phone, written as people write it.
  await page.getByLabel("ค้นหาด้วยชื่อหรือเบอร์โทร").fill("0891112222");
  await page.getByRole("button", { name: "ค้นหา", exact: true }).click();
  await page.waitForURL(/q=0891112222/);
  check((await page.locator("li.person").count()) === 1, "the search by phone does not find exactly one person");
  check((await page.locator("li.person").textContent()).includes("ลุงมา หน้าศูนย์"), "the search found someone else");
  await page.getByRole("link", { name: "ล้างการค้นหา" }).click();

  // The roster as CSV.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "ดาวน์โหลดรายชื่อ (CSV)" }).click(),
  ]);
  const csvPath = join(out, "roster.csv");
  await download.saveAs(csvPath);
  const csv = readFileSync(csvPath, "utf8");
  check(csv.includes("ลุงมา หน้าศูนย์") && csv.split("\r\n").filter(Boolean).length === 7, "the CSV does not hold the header and 6 people");

  // Giving up a seat: the confirmation, then the first person waiting gets it.
  const holder = people.find((p) => p.status === "confirmed");
  const head = people.find((p) => p.status === "waitlisted" && p.waitlist_position === 1);
  await page.getByRole("link", { name: `สละที่นั่ง: ${holder.user.display_name}` }).click();
  await inspect(page, "release-confirm");
  await page.getByRole("button", { name: "สละที่นั่ง" }).click();
  await notice(page, "สละที่นั่งแล้ว");
  people = await roster(staffToken, sessionId);
  check(!people.some((p) => p.id === holder.id), "the released seat is still on the roster");
  check(people.find((p) => p.id === head.id).status === "confirmed", "the waitlist did not move up");

  // Check-in at the door: a session starting within the hour, a resident's ticket typed
  // wrong (the reason beside the field, nothing recorded), then right in lower case.
  const sessionNow = (await api("GET", `/sessions/${sessionId}`, staffToken)).body;
  const inAnHour = (h) => new Date(Date.now() + h * 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
  const soon = await api("POST", `/centers/${sessionNow.center.id}/sessions`, staffToken, {
    course_id: sessionNow.course.id, starts_at: inAnHour(1), ends_at: inAnHour(3), capacity: 5,
  });
  check(soon.status === 201, `a session within the hour: ${soon.status}`);
  const residentSeat = await api("POST", `/sessions/${soon.body.id}/enrollments`, await apiToken(RESIDENT));
  check(residentSeat.status === 201, `the resident enrolls: ${residentSeat.status}`);
  const ticket = await api("GET", `/me/enrollments/${residentSeat.body.id}/ticket`, await apiToken(RESIDENT));
  check(ticket.status === 200 && /^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{4}$/.test(ticket.body.code), `the ticket: ${JSON.stringify(ticket.body.code)}`);
  await page.goto(`${base}/console/sessions/${soon.body.id}`);
  await page.getByLabel("รหัสบัตร").fill("22222-2222");
  await page.getByRole("button", { name: "เช็กอิน", exact: true }).click();
  await page.locator("#ticket-code-error").filter({ hasText: "ไม่พบบัตรรหัสนี้" }).waitFor();
  check((await page.getAttribute("#ticket-code", "aria-invalid")) === "true", "the code field is not marked invalid");
  check((await page.inputValue("#ticket-code")) === "22222-2222", "the typed code was lost");
  await inspect(page, "check-in-refused");
  await page.getByLabel("รหัสบัตร").fill(ticket.body.code.toLowerCase().replace("-", ""));
  await page.getByRole("button", { name: "เช็กอิน", exact: true }).click();
  await notice(page, "เช็กอินแล้ว");
  check((await page.locator("#checked-in-count").textContent()).includes("1/1"), "the count does not show 1/1");
  // Scanned again (a second device, a double tap): said so, nothing recorded twice.
  await page.getByLabel("รหัสบัตร").fill(ticket.body.code);
  await page.getByRole("button", { name: "เช็กอิน", exact: true }).click();
  await notice(page, "คนนี้เช็กอินไว้แล้ว");
  const checkedIn = (await roster(staffToken, soon.body.id)).find((p) => p.id === residentSeat.body.id);
  check(checkedIn.status === "attended", `checked in through the console: ${checkedIn.status}`);
  await inspect(page, "check-in-done");

  // The certificate it gave: the public check and the printable A4 sheet in the Thai font
  // OCOD serves (rendered, not a fallback).
  const certificates = await api("GET", "/me/certificates", await apiToken(RESIDENT));
  // The demo gave the resident one for a course of last week; today's is the most recent.
  check(certificates.status === 200 && certificates.body.items.length === 2, `certificates: ${JSON.stringify(certificates.body)}`);
  const certificate = certificates.body.items[0];
  await page.goto(`${base}/verify/${certificate.code}`);
  await page.getByText("สมศรี ใจดี (Demo Resident)").waitFor();
  await inspect(page, "certificate-verify");
  await page.goto(`${base}/certificates/${certificate.code}`);
  await page.evaluate(() => document.fonts.ready);
  const fonts = await page.evaluate(() => [...document.fonts].filter((f) => f.status === "loaded").map((f) => `${f.family} ${f.weight}`));
  check(fonts.some((f) => f.includes("Kinnari")), `the Thai font did not load: ${fonts}`);
  check(await page.evaluate(() => document.fonts.check("700 28pt Kinnari", "สมศรี")), "Kinnari does not render the name");
  check((await page.locator(".qr svg").count()) === 1, "no QR code on the certificate");
  await inspect(page, "certificate-print");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: join(out, "certificate-print-a4.png"), fullPage: true });
  await page.emulateMedia({ media: "screen" });
  await page.goto(`${base}/console/sessions/${sessionId}`);

  // English, remembered across pages.
  await page.getByRole("link", { name: "English" }).click();
  await page.getByRole("button", { name: `Attended: ${first.user.display_name}` }).waitFor();
  check((await page.getAttribute("html", "lang")) === "en", "the page did not switch to English");
  await inspect(page, "session-en");

  // Reschedule: the form, and the confirmation that says how many will be told.
  await page.getByRole("link", { name: "Reschedule or change capacity" }).click();
  await inspect(page, "edit-en");
  await page.getByLabel("Capacity").fill("4");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").filter({ hasText: "1 person will be told" }).waitFor();
  await inspect(page, "edit-confirm-en");
  await page.getByRole("button", { name: "Save changes" }).click();
  await notice(page, "Saved");
  const resized = await api("GET", `/sessions/${sessionId}`, staffToken);
  check(resized.body.capacity === 4, `capacity is ${resized.body.capacity}, not 4`);
  people = await roster(staffToken, sessionId);
  check(people.find((p) => p.id === walkIn.id).status === "confirmed", "the added seat did not go to the walk-in");

  // A new session at my center, then cancelled (nobody to tell).
  await page.getByRole("link", { name: "Today" }).first().click();
  await page.getByRole("link", { name: "New session" }).click();
  await inspect(page, "new-session-en");
  const tomorrow = new Date(Date.now() + 7 * 3600e3 + 24 * 3600e3).toISOString().slice(0, 10);
  await page.getByLabel("Course").selectOption({ index: 1 });
  await page.getByLabel("Date").fill(tomorrow);
  await page.getByLabel("Start time").fill("14:00");
  await page.getByLabel("End time").fill("13:00");
  await page.getByLabel("Capacity").fill("8");
  await page.getByRole("button", { name: "Create session" }).click();
  await page.locator("#f-ends-error").waitFor();
  await inspect(page, "new-session-refused-en");
  await page.getByLabel("End time").fill("16:00");
  await page.getByLabel("Room (optional)").fill("Room 2");
  await page.getByRole("button", { name: "Create session" }).click();
  await notice(page, "Session created");
  const newId = new URL(page.url()).pathname.split("/").pop();
  const created = await api("GET", `/sessions/${newId}`, staffToken);
  check(created.status === 200 && created.body.capacity === 8 && created.body.room === "Room 2", "the new session is not as entered");
  await page.getByRole("link", { name: "Cancel session" }).click();
  await page.getByRole("status").filter({ hasText: "0 people will be told" }).waitFor();
  await inspect(page, "cancel-confirm-en");
  await page.getByRole("button", { name: "Cancel session" }).click();
  await notice(page, "Session cancelled");
  const cancelled = await api("GET", `/sessions/${newId}`, staffToken);
  check(cancelled.body.status === "cancelled", `the session is ${cancelled.body.status}, not cancelled`);

  // Signing out ends the login session: the old cookie opens nothing.
  const cookies = await context.cookies();
  await page.getByText("Account").click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/console\/login\?signed_out=1/);
  await notice(page, "You have signed out");
  const stale = await browser.newContext();
  await stale.addCookies(cookies);
  const stalePage = await stale.newPage();
  await stalePage.goto(`${base}/console/today`);
  check(new URL(stalePage.url()).pathname === "/console/login", "the cookie still works after signing out");
  await stale.close();

  // An admin's day: the dashboard, a broadcast to a province delivered to a phone (the
  // fake FCM), a new center with its staff, a report as a chart and CSV, the audit log.
  const adminToken = await apiToken(ADMIN);
  const residentToken = await apiToken(RESIDENT);
  const device = await api("POST", "/me/devices", residentToken, { token: "demo-resident-phone-0001", platform: "android" });
  check(device.status === 201 || device.status === 200, `device registration: ${device.status}`);
  const adminContext = await browser.newContext({ locale: "th-TH", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const adminPage = await adminContext.newPage();
  cdp = await adminContext.newCDPSession(adminPage);
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  trackWeight(adminPage);
  await adminPage.goto(`${base}/console/login`);
  await adminPage.getByLabel("เบอร์โทรศัพท์หรืออีเมล").fill(ADMIN.login);
  await adminPage.getByLabel("รหัสผ่าน").fill(ADMIN.password);
  await adminPage.getByRole("button", { name: "เข้าสู่ระบบ" }).click();
  await adminPage.waitForURL(/\/console\/today/);
  await adminPage.getByRole("link", { name: "ภาพรวม" }).click();
  await adminPage.waitForURL(/\/console\/dashboard/);
  const figure = async (label) =>
    (await adminPage.locator("li.figure", { has: adminPage.getByRole("link", { name: label, exact: true }) }).locator(".value").textContent()).trim();
  check(/^[\d,]+$/.test(await figure("ศูนย์ที่เปิดให้บริการ")), "the dashboard counts active centers");
  check((await figure("ประกาศที่รอส่ง")) === "0", "no broadcast waits yet");
  await inspect(adminPage, "admin-dashboard");

  // The composer: texts with their counts and lock-screen preview, a province, its count.
  const deskCenter = (await api("GET", "/centers?q=cdc-35-0001", null)).body.items[0];
  const province = deskCenter.province;
  const preview = await api("POST", "/admin/broadcasts/preview", adminToken, { audience: { kind: "province", value: province } });
  check(preview.status === 200 && preview.body.devices >= 1, `the API's preview: ${JSON.stringify(preview.body)}`);
  const expectedReach = `${preview.body.users} คน ${preview.body.devices} เครื่อง`;
  await adminPage.getByRole("link", { name: "ประกาศ", exact: true }).click();
  await adminPage.getByRole("link", { name: "สร้างประกาศ" }).click();
  await adminPage.getByLabel("ชื่อเรื่อง (ภาษาไทย)").fill("ศูนย์เปิดรอบใหม่");
  await adminPage.getByLabel("ข้อความ (ภาษาไทย)").fill("คอร์สสมาร์ทโฟนเบื้องต้น เปิดรับสมัครแล้วที่ศูนย์ใกล้บ้าน");
  await adminPage.getByLabel("ชื่อเรื่อง (ภาษาอังกฤษ)").fill("New sessions open");
  await adminPage.getByLabel("ข้อความ (ภาษาอังกฤษ)").fill("Smartphone basics is open for enrollment at a center near you.");
  check((await adminPage.locator("#f-title_th-count").textContent()) === "16/65", "the live character count");
  check((await adminPage.locator('[data-preview="title_th"]').textContent()) === "ศูนย์เปิดรอบใหม่", "the lock-screen preview follows the typing");
  await adminPage.getByLabel("ผู้รับ", { exact: true }).selectOption("province");
  await adminPage.getByLabel("จังหวัด", { exact: true }).selectOption(province);
  await adminPage.locator("#reach").filter({ hasText: expectedReach }).waitFor();
  await inspect(adminPage, "admin-composer");
  await adminPage.getByRole("button", { name: "ส่ง", exact: true }).click();
  await adminPage.waitForURL(/\/console\/broadcasts\/[^/?]+\?done=broadcast_created/);
  const broadcastId = new URL(adminPage.url()).pathname.split("/").pop();
  // Its figures move as the server's worker delivers it; the page is refreshed by hand.
  const delivered = () => adminPage.locator("div.figure", { hasText: "ส่งถึงแล้ว" }).locator("dd").textContent();
  const started = Date.now();
  while (Number(await delivered()) < 1) {
    check(Date.now() - started < 30000, "the broadcast was not delivered within 30 s");
    await adminPage.waitForTimeout(500);
    await adminPage.getByRole("link", { name: "อัปเดตตัวเลข" }).click();
    await adminPage.waitForLoadState("load");
  }
  const sent = await api("GET", `/admin/broadcasts/${broadcastId}`, adminToken);
  check(sent.body.sent >= 1 && String(sent.body.sent) === (await delivered()), `the page shows the API's figures: ${JSON.stringify(sent.body)}`);
  await inspect(adminPage, "admin-broadcast");

  // A new center, and a staff member assigned to it by e-mail.
  await adminPage.getByRole("link", { name: "ศูนย์", exact: true }).click();
  await adminPage.getByLabel("ชื่อ รหัส จังหวัด หรืออำเภอ").fill(province);
  await adminPage.getByRole("button", { name: "ค้นหา", exact: true }).click();
  await adminPage.locator("li.person").first().waitFor();
  await inspect(adminPage, "admin-centers");
  await adminPage.getByRole("link", { name: "เพิ่มศูนย์" }).click();
  await adminPage.getByLabel("รหัส", { exact: true }).fill("CDC-50-9001");
  await adminPage.getByLabel("ชื่อ (ภาษาไทย)").fill("ศูนย์ดิจิทัลชุมชนบ้านหนองหอย");
  await adminPage.getByLabel("ชื่อ (ภาษาอังกฤษ)").fill("Ban Nong Hoi Community Digital Center");
  await adminPage.getByLabel("จังหวัด", { exact: true }).selectOption("เชียงใหม่");
  await adminPage.getByLabel("อำเภอ/เขต").fill("เมืองเชียงใหม่");
  await adminPage.getByLabel("ตำบล/แขวง").fill("หนองหอย");
  await adminPage.getByLabel("ละติจูด").fill("north");
  await adminPage.getByLabel("ลองจิจูด").fill("99.0124");
  await adminPage.getByRole("button", { name: "เพิ่มศูนย์" }).click();
  await adminPage.locator("#f-lat-error").waitFor();
  await inspect(adminPage, "admin-center-refused");
  await adminPage.getByLabel("ละติจูด").fill("18.7616");
  await adminPage.getByRole("button", { name: "เพิ่มศูนย์" }).click();
  await notice(adminPage, "เพิ่มศูนย์แล้ว");
  const centerId = new URL(adminPage.url()).pathname.split("/").pop();
  const newCenter = await api("GET", `/centers/${centerId}`, null);
  check(newCenter.status === 200 && newCenter.body.code === "CDC-50-9001", `the API has the new center: ${JSON.stringify(newCenter.body)}`);
  await adminPage.getByLabel("เบอร์โทรหรืออีเมลของเจ้าหน้าที่").fill(STAFF.login);
  await adminPage.getByRole("button", { name: "เพิ่มเจ้าหน้าที่" }).click();
  await notice(adminPage, "เพิ่มเจ้าหน้าที่แล้ว");
  const inTwoDays = (h) => new Date(Date.now() + h * 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
  const course = (await api("GET", "/courses?limit=1", null)).body.items[0];
  const scheduled = await api("POST", `/centers/${centerId}/sessions`, staffToken, {
    course_id: course.id, starts_at: inTwoDays(48), ends_at: inTwoDays(50), capacity: 10,
  });
  check(scheduled.status === 201, `the assigned staff member schedules at the new center: ${scheduled.status}`);
  await inspect(adminPage, "admin-center");

  // A report by center as a chart, and its CSV.
  await adminPage.getByRole("link", { name: "รายงาน", exact: true }).click();
  await adminPage.getByLabel("จัดกลุ่มตาม").selectOption("center");
  await adminPage.getByRole("button", { name: "แสดงรายงาน" }).click();
  await adminPage.waitForURL(/group_by=center/);
  check((await adminPage.locator("svg.bar rect").count()) >= 1, "the report draws a chart");
  await inspect(adminPage, "admin-report");
  const query = new URL(adminPage.url()).searchParams;
  const [reportDownload] = await Promise.all([
    adminPage.waitForEvent("download"),
    adminPage.getByRole("link", { name: "ดาวน์โหลดรายงาน (CSV)" }).click(),
  ]);
  const reportPath = join(out, "report.csv");
  await reportDownload.saveAs(reportPath);
  const reportLines = readFileSync(reportPath, "utf8").replace(/^\uFEFF/, "").trim().split("\r\n");
  const day = (d, plus) => { const t = new Date(`${d}T00:00:00+07:00`); t.setUTCDate(t.getUTCDate() + plus); return t.toISOString(); };
  const apiReport = await api("GET", `/admin/reports/enrollments?group_by=center&from=${encodeURIComponent(day(query.get("from"), 0))}&to=${encodeURIComponent(day(query.get("to"), 1))}`, adminToken);
  check(apiReport.status === 200, `the API report: ${apiReport.status}`);
  check(reportLines[0] === "center,key,enrolled,attended,no_show,waitlisted,cancelled", `CSV header: ${reportLines[0]}`);
  check(reportLines.length === 1 + apiReport.body.items.length, `CSV rows ${reportLines.length - 1}, API rows ${apiReport.body.items.length}`);
  for (const item of apiReport.body.items) {
    const line = `${item.key},${item.enrolled},${item.attended},${item.no_show},${item.waitlisted},${item.cancelled}`;
    check(reportLines.some((l) => l.endsWith(line)), `CSV has ${line}`);
  }

  // Users: a person found by phone.
  await adminPage.getByRole("link", { name: "ผู้ใช้" }).click();
  await adminPage.getByLabel("เบอร์โทร อีเมล หรือชื่อ").fill("081-234-5678");
  await adminPage.getByRole("button", { name: "ค้นหาผู้ใช้" }).click();
  await inspect(adminPage, "admin-users");
  await adminPage.getByRole("link", { name: "สมศรี ใจดี (Demo Resident)" }).click();
  await adminPage.getByRole("heading", { name: "สมศรี ใจดี (Demo Resident)" }).waitFor();
  await inspect(adminPage, "admin-user");

  // The audit log has each of the day's actions in words, with names.
  await adminPage.getByRole("link", { name: "บันทึกการใช้งาน" }).click();
  await adminPage.locator("li.person").first().waitFor();
  const actions = await adminPage.locator("strong.action").allTextContents();
  for (const action of ["สร้างประกาศ", "เพิ่มศูนย์", "เพิ่มเจ้าหน้าที่ประจำศูนย์", "ลงทะเบียนหน้าศูนย์"]) {
    check(actions.includes(action), `the audit log shows "${action}": ${actions.join(", ")}`);
  }
  await adminPage.getByLabel("การกระทำ").selectOption("center_created");
  await adminPage.getByRole("button", { name: "แสดง", exact: true }).click();
  await adminPage.waitForURL(/action=center_created/);
  const rows = await adminPage.locator("li.person").allTextContents();
  check(rows.length >= 1 && rows.every((r) => r.includes("เพิ่มศูนย์")), "the filter keeps center creations only");
  check(rows.some((r) => r.includes("ศูนย์ดิจิทัลชุมชนบ้านหนองหอย")), "the new center is named in the log");
  await inspect(adminPage, "admin-audit");

  // The dashboard after the day: the broadcast's pushes count in the delivery rate.
  await adminPage.getByRole("link", { name: "ภาพรวม" }).click();
  check(/^\d+%$/.test(await figure("อัตราการส่งแจ้งเตือนถึงเครื่อง 7 วันที่ผ่านมา")), "the dashboard shows a delivery rate");
  await inspect(adminPage, "admin-dashboard-end");
  await adminContext.close();

  writeFileSync(join(out, "report.json"), JSON.stringify(report, null, 2));
  console.log(`browser journey passed: ${report.pages.length} pages checked`);
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
