# syntax=docker/dockerfile:1
# ecs-audit as a container: the same CLI, run as an ECS task (see docs/deployment.md).
#
# The base is python:3.11-slim pinned by digest; the digest is the one public Dockerfiles pin for
# python:3.11-slim on Docker Hub and on its ECR Public mirror (public.ecr.aws/docker/library).
# Renew it with `docker buildx imagetools inspect python:3.11-slim` and update both stages at once
# (PYTHON_IMAGE below). Build: docker build -t ecs-audit .
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# --- build: the wheel, exactly as `pip wheel .` makes it for PyPI ------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY ecs_audit ./ecs_audit
COPY checks ./checks
COPY templates ./templates
RUN pip wheel --no-deps --wheel-dir /dist .

# --- runtime: the wheel and its dependencies, nothing else -------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    pip install --no-compile /dist/*.whl \
    && python -m compileall -q "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && groupadd --system --gid 10001 ecsaudit \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin ecsaudit \
    && install -d -o 10001 -g 10001 /work
# The root filesystem is read-only in the task definition: the only writable places are the task's
# volumes, /tmp (HOME and TMPDIR: botocore's caches) and /work (reports and snapshots).
ENV HOME=/tmp TMPDIR=/tmp
WORKDIR /work
USER 10001:10001
ENTRYPOINT ["ecs-audit"]
CMD ["--help"]
