# The shixin image: every role (`shixin worker --role ROLE`) and the CLI, for deploy/.
# Build from the repository root: docker build -t shixin:0.1.0 .
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/shixin
WORKDIR /build
# the dependencies first, so that a change to the code alone reuses this layer
COPY pyproject.toml README.md ./
RUN mkdir -p src/shixin && touch src/shixin/__init__.py \
    && /opt/shixin/bin/pip install . \
    && /opt/shixin/bin/pip uninstall --yes shixin
COPY src ./src
RUN /opt/shixin/bin/pip install --no-deps . && /opt/shixin/bin/shixin --help > /dev/null

FROM python:3.11.14-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/shixin --create-home shixin
COPY --from=build /opt/shixin /opt/shixin
# in a container the web server must listen beyond loopback; RocksDB tables live in the volume
ENV PATH=/opt/shixin/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SHIXIN_WEB_HOST=0.0.0.0 \
    SHIXIN_WEB_PORT=6066 \
    SHIXIN_DATA_DIR=/var/lib/shixin \
    SHIXIN_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/shixin
VOLUME ["/var/lib/shixin"]
EXPOSE 6066
ENTRYPOINT ["shixin"]
CMD ["worker", "--role", "court"]
