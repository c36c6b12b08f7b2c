# Two commands do all set-up on a fresh machine:
#   make demo   — create .venv, install Jingwu, run the demo city (Harbin) at http://127.0.0.1:8000/
#   make test   — create .venv, install test dependencies (and, as root, Debian's Chromium for the
#                 browser tests), lint and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser tests (tests/browser) drive Debian's Chromium through Playwright; never a downloaded
# browser. The CJK font makes Chinese text legible in their screenshots and is the font embedded in
# certificates (PDF); poppler's pdftotext reads a certificate's Chinese back in the tests.
BROWSER_PKGS := chromium fonts-wqy-zenhei poppler-utils
CHROMIUM     := /usr/bin/chromium
CJK_FONT     := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
PDFTOTEXT    := /usr/bin/pdftotext
# The cluster tests (tests/bus, tests/cluster) need NATS with JetStream on 127.0.0.1:4222.
NATS_PORT    := 4222
NATS_UP      = $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $(NATS_PORT)), 1).close()"

# The MQTT loop's tests (tests/service/community_devices) talk to a real MQTT broker: Mosquitto on
# 127.0.0.1:1883.
MQTT_PORT    := 1883
MQTT_UP      = $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $(MQTT_PORT)), 1).close()"

.PHONY: demo demo-deps serve test lint browser-deps video-deps nats-server mqtt-broker bench bench-startup clean

TEST_STAMP := $(VENV)/.installed-test
# pip as the first run needs it: no version check, no byte-compiling every module of numpy and
# scipy up front (Python compiles what is imported, once). bench/startup.py measures the cold start.
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check --no-input

# What the demo and a server need, and nothing more: the test tools (ruff, mypy, schemathesis,
# playwright) were most of a cold `make demo`'s time. `make test` and `make lint` add them.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --no-compile -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PIP) install -e '.[test]'
	touch $(TEST_STAMP)

demo: $(STAMP) demo-deps
	$(BIN)/jingwu demo $(ARGS)

# The demo's certificates (resident self-service) embed a CJK font. Installed when we are root and
# have apt-get; otherwise the demo still runs and certificates use a font the PDF only names.
demo-deps:
	@if [ -e $(CJK_FONT) ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing fonts-wqy-zenhei for the demo's certificates (apt-get; once per machine)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get -qq -o DPkg::Lock::Timeout=300 update \
	    && apt-get -qq -y -o DPkg::Lock::Timeout=300 install fonts-wqy-zenhei >/dev/null; } \
	  || echo "demo-deps: apt-get failed; certificates will name a font instead of embedding one" >&2; \
	else \
	  echo "demo-deps: certificates embed a CJK font: sudo apt-get install fonts-wqy-zenhei" >&2; \
	fi

serve: $(STAMP)
	$(BIN)/jingwu serve $(ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict src/jingwu/domain src/jingwu/dispatch src/jingwu/errors.py \
	  src/jingwu/devices/protocol.py src/jingwu/devices/broker.py
	$(BIN)/mypy src/jingwu

# A no-op when they are there. Otherwise apt-get installs them when we are root and have it; if not,
# it says what to install, and the browser tests skip (under CI=true they fail, naming the packages).
browser-deps:
	@if [ -x $(CHROMIUM) ] && [ -e $(CJK_FONT) ] && [ -x $(PDFTOTEXT) ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(BROWSER_PKGS) for the browser tests (apt-get; once per machine)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get -qq -o DPkg::Lock::Timeout=300 update \
	    && apt-get -qq -y -o DPkg::Lock::Timeout=300 install $(BROWSER_PKGS) >/dev/null; } \
	  || echo "browser-deps: apt-get failed; the browser tests will say what is missing" >&2; \
	else \
	  echo "browser-deps: the browser tests need Debian's $(BROWSER_PKGS)" \
	       "(e.g. sudo apt-get install $(BROWSER_PKGS)); without them they are skipped" >&2; \
	fi

# The video tests (tests/video) run a real RTSP server: GStreamer's, under Debian's python3 (gi).
# Same rules as browser-deps: a no-op when present, apt-get as root, else say what to install.
VIDEO_PKGS := ffmpeg gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good \
              gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
VIDEO_UP    = /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); \
              from gi.repository import Gst; Gst.init(None); \
              assert all(Gst.ElementFactory.find(e) for e in ('x264enc', 'avenc_mpeg4', 'tsdemux'))"
video-deps:
	@if command -v ffmpeg >/dev/null 2>&1 && $(VIDEO_UP) 2>/dev/null; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(VIDEO_PKGS) for the video tests (apt-get; once per machine)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get -qq -o DPkg::Lock::Timeout=300 update \
	    && apt-get -qq -y -o DPkg::Lock::Timeout=300 install $(VIDEO_PKGS) >/dev/null; } \
	  || echo "video-deps: apt-get failed; the video tests will say what is missing" >&2; \
	else \
	  echo "video-deps: the video tests need Debian's $(VIDEO_PKGS)" \
	       "(e.g. sudo apt-get install $(VIDEO_PKGS)); without them they are skipped" >&2; \
	fi

# A no-op when a broker answers on 127.0.0.1:1883. Otherwise Mosquitto is started when it is
# installed (with the machine's configuration as root, else in its local-only mode); if it is not,
# the device tests skip (under CI=true they fail, saying what is missing).
mqtt-broker: $(TEST_STAMP)
	@if $(MQTT_UP) 2>/dev/null; then \
	  :; \
	elif command -v mosquitto >/dev/null 2>&1; then \
	  echo "starting Mosquitto for the device tests"; \
	  if [ "$$(id -u)" = 0 ] && [ -f /etc/mosquitto/mosquitto.conf ]; then \
	    mosquitto -d -c /etc/mosquitto/mosquitto.conf; \
	  else \
	    mosquitto -d; \
	  fi; \
	  for _ in 1 2 3 4 5 6 7 8 9 10; do $(MQTT_UP) 2>/dev/null && break; sleep 0.5; done; \
	else \
	  echo "mqtt-broker: the device tests need Mosquitto on 127.0.0.1:$(MQTT_PORT)" \
	       "(e.g. sudo apt-get install mosquitto); without it they are skipped" >&2; \
	fi

# A no-op when a server answers on 127.0.0.1:4222. Otherwise Debian's nats-server is started with
# JetStream (installed first with apt-get when we are root and it is missing); without it the
# cluster tests skip (under CI=true they fail, saying what is missing).
nats-server: $(TEST_STAMP)
	@if $(NATS_UP) 2>/dev/null; then \
	  :; \
	else \
	  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ] \
	     && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing nats-server for the cluster tests (apt-get; once per machine)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o DPkg::Lock::Timeout=300 install nats-server \
	      >/dev/null || true; \
	  fi; \
	  NATS=$$(command -v nats-server || echo /usr/sbin/nats-server); \
	  if [ -x "$$NATS" ]; then \
	    echo "starting nats-server (JetStream) for the cluster tests"; \
	    if [ "$$(id -u)" = 0 ]; then STORE=/var/lib/nats-server; LOG=/var/log/nats-server.log; \
	    else STORE=$${TMPDIR:-/tmp}/jingwu-nats; LOG=$$STORE.log; fi; \
	    mkdir -p "$$STORE"; \
	    nohup "$$NATS" -a 127.0.0.1 -p $(NATS_PORT) -js -sd "$$STORE" -l "$$LOG" >/dev/null 2>&1 & \
	    for _ in $$(seq 1 20); do $(NATS_UP) 2>/dev/null && break; sleep 0.5; done; \
	  else \
	    echo "nats-server: the cluster tests need NATS with JetStream on 127.0.0.1:$(NATS_PORT)" \
	         "(e.g. sudo apt-get install nats-server); without it they are skipped" >&2; \
	  fi; \
	fi

# The suite runs on three workers (pytest-xdist) on two cores: most of it waits on PostgreSQL,
# NATS, subprocesses and clocks (two workers kept the two cores half busy: 930 s of pytest; three,
# 666 s). The top of tests/conftest.py says which tests keep to one worker or run alone.
# PYTEST_WORKERS=0 runs it in the one process.
PYTEST_WORKERS ?= 3

test: $(TEST_STAMP) lint browser-deps video-deps nats-server mqtt-broker
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/jingwu bench dispatch

# The cold start of `make demo` (fresh venv, pip cache and data folder) until the console answers.
bench-startup:
	$(PYTHON) bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
