"""Under real gunicorn with an access log, no token or cookie value reaches any log line."""

from __future__ import annotations

from .support import Browser, hidden

SECRETS = ("SECRETtoken1234567890abcdef", "COOKIEsecret0987654321", "STAFFcookie5555", "QUERYsecret4242", "INVITEtoken777")
# Everything a careless format could print: the request line, the query, every cookie in and out, the referer.
VERBOSE = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" q=%(q)s c=%({cookie}i)s sc=%({set-cookie}o)s'


def test_tokens_and_cookies_never_reach_the_log_whatever_the_format(site_factory):
    site = site_factory()
    assert site.flask("init-db").returncode == 0
    for name, extra in (("default", []), ("verbose", ["--access-logformat", VERBOSE])):
        server = site.server(name, workers=1, extra=extra).start()
        browser = Browser(server.port)
        assert browser.get(f"/intake/resume/{SECRETS[0]}")[0] == 404
        browser.cookies.update({"intake_session": SECRETS[1], "intake_staff": SECRETS[2], "intake_kiosk": SECRETS[2]})
        assert browser.get(f"/staff/login?next=/staff/&token={SECRETS[3]}&reset_code={SECRETS[3]}")[0] == 200
        assert browser.get(f"/i/{SECRETS[4]}")[0] == 404
        fresh = Browser(server.port)
        _s, _h, page = fresh.get("/")
        status, headers, _ = fresh.post("/intake/start", hidden(page))
        assert status == 302 and "intake_session=" in headers["set-cookie"]
        real_cookie = fresh.cookies["intake_session"]
        fresh.get("/intake/about-you")  # sends the real session cookie
        server.proc.stop()
        log = server.proc.text()
        assert log.count('"GET /') >= 4 or log.count("GET /") >= 4, log[-2000:]
        for secret in (*SECRETS, real_cookie):
            assert secret not in log, f"{name}: a secret reached the log"
        assert "TypeError" not in log and "format requires a mapping" not in log and "Arguments:" not in log
        if name == "verbose":
            assert "/intake/resume/[redacted]" in log and "intake_session=[redacted]" in log
            assert "token=[redacted]" in log and "/i/[redacted]" in log
