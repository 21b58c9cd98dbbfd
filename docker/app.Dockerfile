# The call-center application: daphne serving pbx.asgi (HTTP + WebSockets) with the in-process ARI task,
# static files collected, running as an unprivileged user. Build context: the repository root.

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY pyproject.toml README.md manage.py ./
COPY pbx/ pbx/
COPY accounts/ accounts/
COPY companies/ companies/
COPY calls/ calls/
COPY telephony/ telephony/
COPY api/ api/
COPY console/ console/
COPY templates/ templates/
COPY static/ static/
COPY locale/ locale/
COPY asterisk/ asterisk/
RUN pip install . \
 # Settings need secrets to load; these throwaway ones exist only for the build steps and are removed with the file.
 && DJANGO_ENV=development python manage.py compilemessages --ignore=.venv \
 && DJANGO_ENV=development python manage.py collectstatic --noinput \
 && rm -f .dev-secrets.env db.sqlite3 \
 && mkdir -p /asterisk-generated \
 && chown app:app /asterisk-generated
USER app
ENV DJANGO_ENV=production \
    ASTERISK_CONFIG_DIR=/asterisk-generated
EXPOSE 8000
# HTTPS as the proxy would say, or production's SSL redirect would answer 301; any non-2xx raises, exit 1.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8000/healthz?scope=process', headers={'X-Forwarded-Proto': 'https'}), timeout=4)"
# --proxy-headers: the client's address and scheme come from the reverse proxy in front (docker/nginx.conf).
CMD ["python", "manage.py", "serve", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers"]
