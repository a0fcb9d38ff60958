# syntax=docker/dockerfile:1
#
# The operator's container image. Build it with `make image` (docker build -t headlamp-operator:latest .),
# which needs a Docker engine. The machine this file was written on has none, so it has not
# been built there: docs/install.md, "Container image", says what is and is not checked.
#
# Two stages on the same slim base. The build stage installs the package with its runtime
# dependencies only (`pip install .`, no extras) into a virtual environment; the final stage
# copies that environment and nothing else: no compiler, no pip, no tests, no sandbox (which
# needs the test extra and the repository's manifests/). At run time nothing is written outside
# /tmp, so the container runs with a read-only root filesystem (manifests/deployment.yaml mounts
# an emptyDir on /tmp). Pin the base by digest in your own builds.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# pyproject.toml names README.md as the package's readme: both are needed to build it.
COPY pyproject.toml README.md ./
COPY operator/ ./operator/
RUN python -m venv /opt/headlamp-operator \
 && /opt/headlamp-operator/bin/pip install --no-cache-dir . \
 && /opt/headlamp-operator/bin/pip uninstall --yes pip setuptools wheel

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="headlamp-operator" \
      org.opencontainers.image.description="A Kubernetes operator that drives Headlamp's backend (port-forwards, resource patches) from custom resources." \
      org.opencontainers.image.licenses="Apache-2.0"
# A named user for uid 65532 (distroless's "nonroot"), so that anything asking the OS for the
# user name (kopf's peer identity when POD_ID is unset) gets an answer.
RUN groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --home-dir /tmp --no-create-home \
            --shell /usr/sbin/nologin nonroot
COPY --from=build /opt/headlamp-operator /opt/headlamp-operator
ENV PATH=/opt/headlamp-operator/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /tmp
USER 65532:65532
# kopf's liveness probe (--liveness=http://0.0.0.0:8080/healthz) and Prometheus metrics
# (--metrics-port=9090), as manifests/deployment.yaml sets them.
EXPOSE 8080 9090
ENTRYPOINT ["headlamp-operator", "run"]
