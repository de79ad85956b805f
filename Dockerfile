# syntax=docker/dockerfile:1
# One image runs any Accord process: `docker run accord serve elicitation|ranking|...`.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: wheels for Accord and every dependency (compilers live only here) ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The dependencies change less often than the code: resolve them in their own layer.
COPY pyproject.toml ./
RUN mkdir -p accord shared services \
    && touch accord/__init__.py shared/__init__.py services/__init__.py \
    && pip wheel --wheel-dir /wheels . \
    && rm -f /wheels/accord-*.whl
COPY accord ./accord
COPY shared ./shared
COPY services ./services
RUN pip wheel --no-deps --wheel-dir /wheels .

# ---- runtime: the wheels installed, no compilers, a non-root user ----
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ACCORD_HOST=0.0.0.0 \
    ACCORD_PORT=8000 \
    ACCORD_DATA_DIR=/var/lib/accord
RUN groupadd --system --gid 10001 accord \
    && useradd --system --uid 10001 --gid accord --home-dir /var/lib/accord --create-home \
       --shell /usr/sbin/nologin accord
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels accord
USER 10001:10001
WORKDIR /var/lib/accord
EXPOSE 8000
ENTRYPOINT ["accord"]
CMD ["serve", "gateway"]
