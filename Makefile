# Intake: `make run` serves the app, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# Debian packages. WeasyPrint needs Pango, and libharfbuzz-subset0 for fast font subsetting.
# Fonts for every script a patient may type (see intake/pdf_assets/summary.css): Noto for Latin, Greek, Cyrillic,
# Arabic, Hebrew, Devanagari and Thai; WenQuanYi Micro Hei (TrueType: small subsets) and Noto CJK for Chinese,
# Japanese and Korean; Noto Color Emoji.
FONT_PACKAGES := fontconfig fonts-dejavu-core fonts-noto-core fonts-wqy-microhei fonts-noto-cjk fonts-noto-color-emoji
RUN_PACKAGES  := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 $(FONT_PACKAGES)
TEST_PACKAGES := $(RUN_PACKAGES) poppler-utils chromium chromium-driver

.PHONY: run test lint setup test-setup system-run system-test clean translations

define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Please install:$$missing (Debian names)"; exit 1; fi; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "Installing system packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system-run:
	$(call apt_install,$(RUN_PACKAGES))

system-test:
	$(call apt_install,$(TEST_PACKAGES))

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: system-run $(STAMP)

# The web server (gunicorn with the repo's config, as in production) and one job worker (PDFs, exports).
# Ctrl-C stops both; if either one stops, the other is stopped too. PORT=5001 make run serves elsewhere.
PORT ?= 5000
run: setup
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app demo-admin
	@$(BIN)/flask --app app mail-status
	@echo "Serving http://127.0.0.1:$(PORT) with one job worker. Ctrl-C stops both."
	@bash -c 'trap "kill \$$(jobs -p) 2>/dev/null; wait" EXIT; \
	  $(BIN)/flask --app app worker & \
	  INTAKE_BIND=127.0.0.1:$(PORT) WEB_CONCURRENCY=2 $(BIN)/gunicorn -c python:intake.gunicorn_conf "intake:create_app()" & \
	  wait -n'

lint: $(STAMP)
	$(BIN)/ruff check .

test: system-test $(STAMP) lint
	$(BIN)/pytest -n auto --dist worksteal

# Re-extract every text a patient reads (templates, Python, questionnaire YAML), merge it into
# each catalogue and compile. Then translate any new or fuzzy msgstr and run this again.
translations: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k translate --no-wrap --sort-by-file --omit-header -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d intake/translations --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d intake/translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
