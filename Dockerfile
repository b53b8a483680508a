# syntax=docker/dockerfile:1
# Tenantry's image: the wheel `python -m build` makes, installed in a venv, run as a user that is not root.
# See docs/deploy.md. tests/deploy/test_container_files.py checks the stages, the user and the healthcheck.

# Stage 1: build the wheel, and every runtime dependency as a wheel (compilers, if any, stay here).
FROM python:3.12-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir "build>=1.2,<2"
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m build --wheel --outdir /dist . \
    && pip wheel --no-cache-dir --wheel-dir /dist /dist/tenantry-*.whl

# Stage 2: the runtime. Only the installed wheels, no build tools, no dev tools.
FROM python:3.12-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/tenantry/bin:$PATH \
    TENANTRY_LOG_FORMAT=json \
    TENANTRY_DATABASE_URL=sqlite:////var/lib/tenantry/tenantry.db
RUN groupadd --system --gid 10001 tenantry \
    && useradd --system --uid 10001 --gid tenantry --home-dir /var/lib/tenantry --create-home tenantry
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    python -m venv /opt/tenantry \
    && /opt/tenantry/bin/pip install --no-cache-dir --no-index --find-links /dist tenantry
USER tenantry:tenantry
WORKDIR /var/lib/tenantry
VOLUME ["/var/lib/tenantry"]
EXPOSE 8000
# /readyz answers 200 once the database answers (503 otherwise); python is in the image, curl is not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"]
CMD ["tenantry", "serve", "--host", "0.0.0.0", "--port", "8000"]
