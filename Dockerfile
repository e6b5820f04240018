# docagent: API, workers and scheduler share this image (the command differs).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-zenhei fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The whole project (.dockerignore keeps out the venv, outputs, tests' caches and git history);
# installing it puts one import name, docagent, into site-packages.
COPY . .
RUN pip install --no-cache-dir '.[s3]' flower

RUN useradd --create-home --uid 1000 docagent && mkdir -p /data && chown docagent /data
USER docagent
ENV DOCAGENT_VAR_DIR=/data
EXPOSE 8000
# The same entry point as everywhere: it refuses DOCAGENT_AUTH=off on a non-loopback address
# (and the application itself refuses unauthenticated requests that arrive from the network).
CMD ["docagent", "serve", "--host", "0.0.0.0", "--port", "8000"]
