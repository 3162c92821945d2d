# consult in a container: one image for every process type of the Procfile
# (`docker run IMAGE web|worker|live|release`, see deploy/procfile-run), and an nginx image
# with the shipped configuration and the static files (target `nginx`). compose.yaml
# starts them all with PostgreSQL and Redis.

FROM python:3.11-slim-bookworm AS build
# Compilers only here, for a dependency without a wheel for this platform.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY consult consult
# The dependencies go into the venv; the app itself runs from /app, where its
# translations sit beside the package (as in a checkout).
RUN pip install . && pip uninstall --yes consult
COPY wsgi.py Procfile ./
COPY migrations migrations
COPY translations translations
COPY deploy/procfile-run deploy/procfile-run
RUN pybabel compile --statistics -d translations \
    && python -m compileall -q consult migrations wsgi.py

FROM nginx:1.26-bookworm AS nginx
# The official image renders templates/*.template with envsubst at start (only variables
# that are set), into conf.d/: CONSULT_LISTEN, CONSULT_WEB_UPSTREAM, CONSULT_LIVE_UPSTREAM,
# CONSULT_STATIC_ROOT.
COPY deploy/nginx/consult.conf.template /etc/nginx/templates/default.conf.template
COPY consult/static /srv/consult/static
ENV CONSULT_LISTEN=80 CONSULT_WEB_UPSTREAM=web:8000 CONSULT_LIVE_UPSTREAM=live:8001 \
    CONSULT_STATIC_ROOT=/srv/consult/static

FROM python:3.11-slim-bookworm AS app
RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin consult \
    && mkdir -p /var/lib/consult && chown consult /var/lib/consult
COPY --from=build /venv /venv
# Owned by root: the app cannot change its own code.
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    CONSULT_INSTANCE_PATH=/var/lib/consult
USER consult
EXPOSE 8000 8001
ENTRYPOINT ["/app/deploy/procfile-run"]
CMD ["web"]
